"""The errors every service raises, and how each edge reports them.

A service never returns a half-done result: it either commits everything or raises one of these
and changes nothing. The API maps each class to its HTTP status (``status``) and the browser shows
``message`` to the user. ``code`` is stable, for integrators to branch on.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(self.message)


class InvalidInput(DomainError):
    """The input itself is wrong: an amount out of range, a missing field."""

    status = 400
    code = "invalid"


class NotAllowed(DomainError):
    """The user may see the object, but the action is not theirs to take."""

    status = 403
    code = "not_allowed"
    default_message = "You are not allowed to take this action."


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(DomainError):
    """The object is not in a state that allows the action."""

    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, *, model: str, current: str, target: str, message: str | None = None):
        self.current = current
        self.target = target
        super().__init__(
            message
            or f"This {model} is {current.replace('_', ' ').lower()}; "
            f"it cannot become {target.replace('_', ' ').lower()}.",
        )


class DeadlinePassed(Conflict):
    code = "deadline_passed"
    default_message = "The deadline for this action has passed."
