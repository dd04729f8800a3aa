"""What the parties read: timeline events, and notifications to both parties.

:func:`write` is the timeline writer of every lifecycle whose rows belong to a refund request or
a dispute (``core.actions.perform`` hands it each row with its event): one INSERT appends a whole
sweep batch's events. :func:`writer` makes the same writer for a higher app's model, given the
path from its rows to their dispute. Texts name amounts with their currency and deadlines in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from accounts.models import User
from accounts.services import Message, notifications_send
from core import bulk
from core.actions import Event
from core.money import format_amount

from ..models import Dispute, RefundRequest, TimelineEvent


def amounts(currency: str, **values: Decimal | None) -> dict[str, str]:
    """Amounts as the timeline keeps them: exact strings with the currency's places."""
    return {k: format_amount(v, currency) for k, v in values.items() if v is not None}


def _columns(dispute_or_request, event: Event, actor: User | None, now: datetime) -> dict:
    if isinstance(dispute_or_request, RefundRequest):
        request_id, dispute_id = dispute_or_request.pk, None
    else:
        request_id, dispute_id = dispute_or_request.refund_request_id, dispute_or_request.pk
    kind, party, due_at = event.deadline or ("", "", None)
    return {
        "refund_request_id": request_id,
        "dispute_id": dispute_id,
        "kind": event.kind,
        "actor_id": event.actor_id or (actor.pk if actor is not None else None),
        "at": now,
        "amounts": dict(event.amounts),
        "note": event.note,
        "deadline_kind": kind,
        "deadline_party": party,
        "deadline_due_at": due_at,
        "evidence_id": event.refs.get("evidence_id"),
        "internal": event.internal,
    }


def write(entries: Sequence[tuple[object, Event]], *, actor: User | None, now: datetime) -> None:
    """Append the events of refund requests and disputes (``(row, event)`` pairs) at once."""
    bulk.insert(TimelineEvent, [_columns(row, event, actor, now) for row, event in entries])


def writer(path: str) -> Callable[..., None]:
    """A timeline writer for rows that reach their dispute by the dotted ``path``."""

    def write_through(entries, *, actor, now):
        rows = []
        for row, event in entries:
            dispute = row
            for part in path.split("."):
                dispute = getattr(dispute, part)
            rows.append((dispute, event))
        write(rows, actor=actor, now=now)

    return write_through


def notify_parties(*, dispute: Dispute, kind: str, title: str, body: str) -> list[Message]:
    """The same notification for both parties of a dispute."""
    contract = dispute.refund_request.contract
    return [
        Message(
            user_id=user_id,
            kind=kind,
            title=f"{title} on “{contract.title}”",
            body=body,
            url=dispute.get_absolute_url(),
        )
        for user_id in (contract.freelancer_id, contract.client_id)
    ]


def remind_parties(
    *,
    disputes: Iterable[Dispute],
    owes: Callable[[Dispute, str], bool],
    title: str,
    body: Callable[[Dispute], str],
    now: datetime,
) -> None:
    """Remind each party of each dispute that ``owes(dispute, party)`` an answer or a payment.

    The disputes come with ``refund_request__contract`` loaded (as the reminder sweeps load
    them); ``body(dispute)`` is the text both parties would read.
    """
    messages = []
    for dispute in disputes:
        contract = dispute.refund_request.contract
        for party in ("freelancer", "client"):
            if owes(dispute, party):
                messages.append(
                    Message(
                        user_id=getattr(contract, f"{party}_id"),
                        kind="deadline_reminder",
                        title=title,
                        body=body(dispute),
                        url=dispute.get_absolute_url(),
                    )
                )
    notifications_send(messages=messages, now=now)
