"""Template filters that name people as the pages do."""

import re

from django import template

register = template.Library()


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[^0-9a-z]+", text.casefold()) if word]


@register.filter
def with_role(user, role: str) -> str:
    """The user's name followed by their role, "alice (freelancer)", unless the name says it
    already: "freelancer", "frank-freelancer", "agent" for a mediation agent."""
    name = str(user)
    role_words = _words(role)
    if role_words and role_words[-1] in _words(name):
        return name
    return f"{name} ({role})"
