"""The stages the mediation and arbitration apps add: moving a dispute on, with its deadline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from accounts.models import User
from accounts.services import Message, notifications_send
from core import deadlines

from ..models import Dispute, TimelineEvent
from .errors import _transition
from .reminders import REMINDER_FIELDS
from .timeline import _amounts


def dispute_advance(
    *,
    dispute: Dispute,
    target: str,
    kind: str,
    actor: User | None,
    now: datetime,
    due_at: datetime | None = None,
    started_at: datetime | None = None,
    note: str = "",
    amounts: Mapping[str, Decimal] | None = None,
    deadline_kind: str = "",
    deadline_party: str = "",
    notify_title: str = "",
    notify_body: str = "",
) -> Dispute:
    """Move a locked dispute to its next stage, with that stage's deadline, and say so.

    The event goes on the timeline in the same transaction; both parties are told after commit
    (when ``notify_title`` is given). The stage's reminders start afresh.
    """
    _transition(Dispute.TRANSITIONS, dispute, target, "dispute")
    dispute.status = target
    dispute.response_due_at = due_at
    dispute.stage_started_at = started_at or now
    reminders = {field: None for field in REMINDER_FIELDS.values()}
    if due_at is not None:
        reminders.update(
            deadlines.reminders_already_covered(
                due_at=due_at, now=dispute.stage_started_at, fields=REMINDER_FIELDS
            )
        )
    for field, value in reminders.items():
        setattr(dispute, field, value)
    dispute.save(update_fields=["status", "response_due_at", "stage_started_at", *reminders])
    request = dispute.refund_request
    TimelineEvent.objects.create(
        refund_request=request,
        dispute=dispute,
        kind=kind,
        actor=actor,
        at=now,
        amounts=_amounts(request.currency, **(amounts or {})),
        note=note,
        deadline_kind=deadline_kind,
        deadline_party=deadline_party,
        deadline_due_at=due_at,
    )
    if notify_title:
        contract = request.contract
        notifications_send(
            messages=[
                Message(
                    user_id=user_id,
                    kind=kind.lower(),
                    title=f"{notify_title} on “{contract.title}”",
                    body=notify_body,
                    url=dispute.get_absolute_url(),
                )
                for user_id in (contract.freelancer_id, contract.client_id)
            ],
            now=now,
        )
    return dispute
