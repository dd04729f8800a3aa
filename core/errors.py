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


# --- Refusals of the declared actions (``core.actions``) -----------------------------------------


class NotTheClient(NotAllowed):
    code = "not_the_client"
    default_message = "Only the contract's client can take this action."


class NotTheFreelancer(NotAllowed):
    code = "not_the_freelancer"
    default_message = "Only the contract's freelancer can take this action."


class NotAParty(NotAllowed):
    default_message = "Only the parties to the contract can take this action."


class NotAnAgent(NotAllowed):
    code = "not_an_agent"
    default_message = "Only mediation agents can take this action."


class NotAnArbitrator(NotAllowed):
    code = "not_an_arbitrator"
    default_message = "Only arbitrators can take this action."


class ConflictOfInterest(NotAllowed):
    """A staff member acting on a case they are a party to, or arbitrating what they mediated."""

    code = "conflict_of_interest"
    default_message = (
        "You are a party to this contract, so you cannot act on its case as staff: another "
        "staff member has to."
    )


class AccountSuspended(NotAllowed):
    code = "account_suspended"
    default_message = "Your account is suspended: you can read, but not take actions."


class DeadlineSettled(DeadlinePassed):
    """The deadline passed before the person acted, and its own outcome was applied instead.

    Raised after the deadline's action was written in the same transaction; :func:`service`
    and :func:`atomic` commit that before the refusal leaves them.
    """


class StaleRow(Conflict):
    """A row was not in a state the action leaves from when its status was written."""

    code = "illegal_transition"
    default_message = "This changed meanwhile; reload and try again."
