"""The named refusals of refund requests and disputes, and the checks that raise them.

Each illegal action raises an exception defined where it is raised (403 for the wrong person,
409 for the wrong state or a deadline that has passed); nothing has changed then.
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import Role, User
from accounts.selectors import user_has_role
from accounts.services import user_ensure_can_act
from contracts.models import Contract
from core import deadlines
from core.errors import Conflict, DeadlinePassed, NotAllowed
from core.transitions import ensure_transition


class NotTheFreelancer(NotAllowed):
    code = "not_the_freelancer"
    default_message = "Only the contract's freelancer can take this action."


class NotTheClient(NotAllowed):
    code = "not_the_client"
    default_message = "Only the contract's client can take this action."


class DisputeAlreadyStarted(Conflict):
    code = "dispute_exists"
    default_message = "A dispute has already been started for this refund request."


class FilingLocked(Conflict):
    code = "filing_locked"
    default_message = "A submitted dispute cannot be edited."


def _ensure_party(*, contract: Contract, actor: User, party: str) -> None:
    user_ensure_can_act(user=actor)
    if party == "freelancer" and actor.pk != contract.freelancer_id:
        raise NotTheFreelancer()
    if party == "client" and actor.pk != contract.client_id:
        raise NotTheClient()


def _ensure_before(due_at: datetime, now: datetime, what: str) -> None:
    if now >= due_at:
        raise DeadlinePassed(f"The deadline to {what} passed on {deadlines.when(due_at)}.")


def _transition(table, obj, target: str, model: str) -> None:
    ensure_transition(table, model=model, current=obj.status, target=target)


def _ensure_role(user: User, role: Role) -> None:
    user_ensure_can_act(user=user)
    if not user_has_role(user=user, role=role):
        raise NotAllowed(f"Only {role.label.lower()} can take this action.", code="not_allowed")
