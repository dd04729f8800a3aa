"""Template filters that show stored texts' moments in the reader's time zone."""

from django import template
from django.utils.safestring import SafeData, mark_safe

from core.formats import in_reader_zone

register = template.Library()


@register.filter
def local_times(value) -> str:
    """Rewrite each UTC moment a stored text names ("2026-12-07 00:49 UTC") in the reader's zone.

    A text already safe (a message built with ``format_html``) stays safe: a moment written out
    holds no markup.
    """
    if not value:
        return ""
    text = str(value)  # a flash message's str() is its text, safe or not
    local = in_reader_zone(text)
    return mark_safe(local) if isinstance(text, SafeData) else local  # noqa: S308
