"""What mediation agents and arbitrators do to any dispute: take it, note, extend a deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import Role, User
from accounts.selectors import user_has_role
from accounts.services import user_ensure_can_act
from core import deadlines
from core.errors import Conflict, DeadlinePassed, InvalidInput, NotAllowed

from ..models import Dispute, RefundRequest, TimelineEvent
from .errors import _ensure_role
from .locks import _lock_dispute, _lock_refund_request
from .reminders import REMINDER_FIELDS
from .timeline import notify_parties, timeline_event_add

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


STAFF_ROLES = {"agent": Role.MEDIATION_AGENT, "arbitrator": Role.ARBITRATOR}
ASSIGNABLE_STAGES = {
    "agent": frozenset({DStatus.IN_MEDIATION, DStatus.RESOLUTION_PROPOSED}),
    "arbitrator": frozenset({DStatus.IN_ARBITRATION}),
}


@transaction.atomic
def dispute_assign(*, dispute: Dispute, staff: User, role: str, now: datetime) -> Dispute:
    """Give the case to ``staff`` as its mediation agent or its arbitrator ("assign to me")."""
    _ensure_role(staff, STAFF_ROLES[role])
    dispute = _lock_dispute(dispute.pk)
    if dispute.status not in ASSIGNABLE_STAGES[role]:
        raise Conflict(f"This dispute is {dispute.get_status_display().lower()}: no {role} needed.")
    previous = dispute.agent if role == "agent" else dispute.arbitrator
    if role == "agent":
        dispute.agent, dispute.agent_assigned_at = staff, now
        dispute.save(update_fields=["agent", "agent_assigned_at"])
        kind = Kind.AGENT_ASSIGNED
    else:
        dispute.arbitrator = staff
        dispute.save(update_fields=["arbitrator"])
        kind = Kind.ARBITRATOR_ASSIGNED
    taken = f" from {previous}" if previous is not None and previous != staff else ""
    timeline_event_add(
        dispute=dispute, kind=kind, actor=staff, now=now, note=f"{staff} took the case{taken}."
    )
    return dispute


@transaction.atomic
def dispute_note_add(*, dispute: Dispute, author: User, text: str, now: datetime) -> TimelineEvent:
    """Add an internal note: mediation agents and arbitrators read it, the parties never do."""
    user_ensure_can_act(user=author)
    if not (
        user_has_role(user=author, role=Role.MEDIATION_AGENT)
        or user_has_role(user=author, role=Role.ARBITRATOR)
    ):
        raise NotAllowed("Only mediation agents and arbitrators write internal notes.")
    body = (text or "").strip()
    if not body:
        raise InvalidInput("Write the note first.", fields={"text": ["Write the note first."]})
    dispute = _lock_dispute(dispute.pk)
    return timeline_event_add(
        dispute=dispute, kind=Kind.INTERNAL_NOTE, actor=author, now=now, note=body, internal=True
    )


# A later stage whose party deadline lives on its own rows (an evidence request) registers how
# to move it: ``extender(dispute, due_at, now) -> (old_due_at, party)``, raising Conflict when
# there is nothing to extend.
DEADLINE_EXTENDERS: dict[str, Callable[[Dispute, datetime, datetime], tuple[datetime, str]]] = {}


@transaction.atomic
def dispute_extend(
    *, dispute: Dispute, actor: User, due_at: datetime, reason: str, now: datetime
) -> Dispute:
    """Move the parties' current deadline later, with a written reason both parties see.

    The only way a deadline moves: a mediation agent's action, recorded on the timeline.
    """
    _ensure_role(actor, Role.MEDIATION_AGENT)
    text = (reason or "").strip()
    if not text:
        message = "Give the reason for the extension; both parties will read it."
        raise InvalidInput(message, fields={"reason": [message]})
    request = _lock_refund_request(dispute.refund_request_id)
    dispute = _lock_dispute(dispute.pk)
    dispute.refund_request = request
    if dispute.status == DStatus.DRAFT:
        old, party = request.response_due_at, "freelancer"
    elif dispute.status in Dispute.PARTY_DEADLINE_STAGES:
        old = dispute.response_due_at
        party = "client" if dispute.status == DStatus.AWAITING_CLIENT else "parties"
    elif dispute.status in DEADLINE_EXTENDERS:
        old, party = None, ""
    else:
        raise Conflict(
            f"This dispute is {dispute.get_status_display().lower()}: no party deadline runs.",
            code="no_deadline",
        )
    if old is not None and now >= old:
        raise DeadlinePassed("This deadline has passed already; it can no longer be extended.")
    if due_at <= now or (old is not None and due_at <= old):
        message = "The new deadline must be later than the current one."
        raise InvalidInput(message, code="invalid_due_at", fields={"due_at": [message]})

    if dispute.status == DStatus.DRAFT:
        _move_deadline(request, due_at, now)
    elif dispute.status in Dispute.PARTY_DEADLINE_STAGES:
        _move_deadline(dispute, due_at, now)
    else:
        old, party = DEADLINE_EXTENDERS[dispute.status](dispute, due_at, now)
    timeline_event_add(
        dispute=dispute,
        kind=Kind.DEADLINE_EXTENDED,
        actor=actor,
        now=now,
        note=f"Extended from {deadlines.when(old)} to {deadlines.when(due_at)}: {text}",
        deadline=("extended", party, due_at),
    )
    notify_parties(
        dispute=dispute,
        kind="deadline_extended",
        title="Deadline extended",
        body=f"A mediation agent moved the deadline to {deadlines.when(due_at)}. Reason: {text}",
        now=now,
    )
    return dispute


def _move_deadline(row: RefundRequest | Dispute, due_at: datetime, now: datetime) -> None:
    """Set a row's ``response_due_at`` and re-arm the reminders the new deadline still needs."""
    row.response_due_at = due_at
    for hours, field in REMINDER_FIELDS.items():
        setattr(row, field, now if due_at - now <= timedelta(hours=hours) else None)
    row.save(update_fields=["response_due_at", *REMINDER_FIELDS.values()])
