"""What mediation agents and arbitrators do to any dispute: take it, note, extend a deadline.

Who may, and when, is declared on ``Dispute.lifecycle``: the staff role (group membership), and
never on a case one is a party to, nor arbitrating a case one mediated (``conflict_of_interest``).
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from core import deadlines
from core.actions import Event, perform, service
from core.errors import InvalidInput

from ..models import Dispute, TimelineEvent
from . import timeline
from .locks import lock_dispute, lock_dispute_with_request

DStatus = Dispute.Status
Kind = TimelineEvent.Kind

# "Assign to me" for each role: the action, the column that names the assignee, the event.
ASSIGNMENTS = {
    "agent": ("assign_agent", "agent", Kind.AGENT_ASSIGNED),
    "arbitrator": ("assign_arbitrator", "arbitrator", Kind.ARBITRATOR_ASSIGNED),
}


@service
def dispute_assign(*, dispute: Dispute, staff: User, role: str, now: datetime) -> Dispute:
    """Give the case to ``staff`` as its mediation agent or its arbitrator ("assign to me")."""
    action, column, kind = ASSIGNMENTS[role]
    dispute = lock_dispute(dispute_id=dispute.pk)
    Dispute.lifecycle.check(action, dispute, user=staff, now=now)
    previous = getattr(dispute, column)
    values = {f"{column}_id": staff.pk}
    if role == "agent":
        values["agent_assigned_at"] = now
    taken = f" from {previous}" if previous is not None and previous != staff else ""
    perform(
        Dispute.lifecycle,
        action,
        dispute,
        user=staff,
        now=now,
        checked=True,
        values=values,
        event=Event(kind, note=f"{staff} took the case{taken}."),
    )
    setattr(dispute, column, staff)
    return dispute


@service
def dispute_note_add(*, dispute: Dispute, author: User, text: str, now: datetime) -> TimelineEvent:
    """Add an internal note: mediation agents and arbitrators read it, the parties never do."""
    dispute = lock_dispute(dispute_id=dispute.pk)
    Dispute.lifecycle.check("note", dispute, user=author, now=now)
    body = (text or "").strip()
    if not body:
        raise InvalidInput("Write the note first.", fields={"text": ["Write the note first."]})
    perform(
        Dispute.lifecycle,
        "note",
        dispute,
        user=author,
        now=now,
        checked=True,
        event=Event(Kind.INTERNAL_NOTE, note=body, internal=True),
    )
    return TimelineEvent.objects.filter(dispute=dispute, kind=Kind.INTERNAL_NOTE).latest("pk")


@service
def dispute_extend(
    *, dispute: Dispute, actor: User, due_at: datetime, reason: str, now: datetime
) -> Dispute:
    """Move the parties' current deadline later, with a written reason both parties see.

    The only way a deadline moves: a mediation agent's action, recorded on the timeline. The
    deadline moved is the one the declarations say runs now (``Dispute`` action ``extend``); a
    deadline that has passed already was applied instead, and cannot be extended.
    """
    dispute = lock_dispute_with_request(dispute.pk, dispute.refund_request_id)
    Dispute.lifecycle.check("extend", dispute, user=actor, now=now)
    text = (reason or "").strip()
    if not text:
        message = "Give the reason for the extension; both parties will read it."
        raise InvalidInput(message, fields={"reason": [message]})
    # The table's guard made sure a party deadline runs; this is it.
    kind, row = Dispute.lifecycle["extend"].before(dispute)
    old = kind.due_at(row)
    if due_at <= now or due_at <= old:
        message = "The new deadline must be later than the current one."
        raise InvalidInput(message, code="invalid_due_at", fields={"due_at": [message]})
    deadlines.ensure_within_reach(due_at, now=now)
    kind.extend(row, due_at=due_at, now=now)
    party = kind.deadline_of(row).party
    perform(
        Dispute.lifecycle,
        "extend",
        dispute,
        user=actor,
        now=now,
        checked=True,
        event=Event(
            Kind.DEADLINE_EXTENDED,
            note=f"Extended from {deadlines.when(old)} to {deadlines.when(due_at)}: {text}",
            deadline=(kind.name, party, due_at),
        ),
        notify=[
            message
            for message in timeline.notify_parties(
                dispute=dispute,
                kind="deadline_extended",
                title="Deadline extended",
                body=(
                    f"A mediation agent moved the deadline to {deadlines.when(due_at)}. "
                    f"Reason: {text}"
                ),
            )
            # A draft is the freelancer's own: the client does not learn of it.
            if dispute.submitted_at is not None
            or message.user_id == dispute.refund_request.contract.freelancer_id
        ],
    )
    return dispute
