"""Deadlines and the timeline, ready to show: whose move, how far along, in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from core import deadlines

from ..models import Deadline, Dispute, RefundRequest, TimelineEvent
from ..selectors import reads_as_staff


def _dispute_of(refund: RefundRequest) -> Dispute | None:
    try:
        return refund.dispute
    except Dispute.DoesNotExist:
        return None


def _can_see_dispute(dispute: Dispute | None, *, user, role: str | None) -> bool:
    """A client sees a dispute once it is submitted; a draft is the freelancer's own."""
    if dispute is None:
        return False
    return (
        role == "freelancer"
        or dispute.submitted_at is not None
        or reads_as_staff(user, dispute.refund_request.contract)
    )


PARTY_NAMES = {
    "freelancer": "the freelancer",
    "client": "the client",
    "parties": "both parties",
    "agent": "a mediation agent",
    "arbitrator": "the arbitrator",
}


def deadline_label(kind: str) -> str:
    """The label of a deadline kind, from its declaration (``core.deadlines``)."""
    declared = deadlines.describe(kind)
    if declared is not None:
        return declared.label
    if kind == "extended":  # events written before extensions named the deadline they moved
        return "The extended deadline"
    return kind.replace("_", " ").capitalize()


def deadline_enforced(kind: str) -> bool:
    declared = deadlines.describe(kind)
    return declared.enforced if declared is not None else True


AMOUNT_LABELS = {
    "escrowed": "Escrowed (E)",
    "paid": "Paid (P)",
    "refund_requested": "Refund asked (R)",
    "disputed": "Disputed (D)",
    "refunded": "Refunded to the client",
    "to_freelancer": "To the freelancer",
    "to_client": "To the client",
    "fee": "Arbitration fee",
}


KIND_LABELS = dict(TimelineEvent.Kind.choices)


@dataclass(frozen=True)
class DeadlineView:
    """A deadline as the viewer sees it: whose move, how far along, whether it has passed."""

    label: str
    party: str
    starts_at: datetime | None
    due_at: datetime
    enforced: bool
    percent: int | None  # None when the start is unknown: no progress bar then
    passed: bool
    yours: bool


def deadline_view(
    deadline: Deadline | None, *, now: datetime, role: str | None
) -> DeadlineView | None:
    if deadline is None:
        return None
    percent = None
    if deadline.starts_at is not None:
        total = (deadline.due_at - deadline.starts_at).total_seconds()
        elapsed = (now - deadline.starts_at).total_seconds()
        percent = 100 if total <= 0 else round(100 * min(max(elapsed / total, 0), 1))
    return DeadlineView(
        label=deadline.label,
        party=PARTY_NAMES.get(deadline.party, deadline.party),
        starts_at=deadline.starts_at,
        due_at=deadline.due_at,
        enforced=deadline.enforced,
        percent=percent,
        passed=now >= deadline.due_at,
        yours=role is not None and (deadline.party == role or deadline.party == "parties"),
    )


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    label: str
    amounts: list[tuple[str, str]]
    note: str
    deadline_label: str
    deadline_due_at: datetime | None
    deadline_enforced: bool
    evidence_url: str
    internal: bool


def _timeline(events: Iterable[TimelineEvent], currency: str) -> list[EventView]:
    return [
        EventView(
            at=event.at,
            actor=str(event.actor) if event.actor_id else "the system",
            label=KIND_LABELS.get(event.kind) or event.kind.replace("_", " ").capitalize(),
            amounts=[
                (AMOUNT_LABELS.get(key, key.replace("_", " ").capitalize()), f"{value} {currency}")
                for key, value in (event.amounts or {}).items()
            ],
            note=event.note,
            deadline_label=deadline_label(event.deadline_kind) if event.deadline_due_at else "",
            deadline_due_at=event.deadline_due_at,
            deadline_enforced=deadline_enforced(event.deadline_kind),
            evidence_url=(
                reverse("disputes:evidence-download", kwargs={"pk": event.evidence_id})
                if event.evidence_id
                else ""
            ),
            internal=event.internal,
        )
        for event in events
    ]
