"""What the parties read: timeline events, and notifications to both parties.

A single action appends its events with the ORM; a sweep builds them with :func:`_event` and
writes a whole batch with :func:`_timeline_insert`. Texts name amounts with their currency and
deadlines in UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from django.db import connection

from accounts.models import User
from accounts.services import Message, notifications_send
from core.money import format_amount

from ..models import Dispute, TimelineEvent


def _amounts(currency: str, **amounts: Decimal | None) -> dict[str, str]:
    return {k: format_amount(v, currency) for k, v in amounts.items() if v is not None}


def _event(
    *,
    refund_request_id: int,
    kind: str,
    at: datetime,
    dispute_id: int | None = None,
    actor_id: int | None = None,
    amounts: dict | None = None,
    note: str = "",
) -> dict:
    """One timeline event's columns, for :func:`_timeline_insert`."""
    return {
        "refund_request_id": refund_request_id,
        "dispute_id": dispute_id,
        "kind": kind,
        "actor_id": actor_id,
        "at": at,
        "amounts": amounts or {},
        "note": note,
        "deadline_kind": "",
        "deadline_party": "",
        "deadline_due_at": None,
        "evidence_id": None,
        "internal": False,
    }


def _timeline_insert(events: list[dict]) -> None:
    """Append many timeline events (made by :func:`_event`) at once, as sweeps do."""
    if not events:
        return
    if connection.vendor != "postgresql":
        TimelineEvent.objects.bulk_create(TimelineEvent(**e) for e in events)
        return
    columns = list(events[0])
    types = {
        "refund_request_id": "bigint",
        "dispute_id": "bigint",
        "actor_id": "bigint",
        "evidence_id": "bigint",
        "at": "timestamptz",
        "deadline_due_at": "timestamptz",
        "internal": "boolean",
        "amounts": "jsonb",
    }
    # JSON goes over as text and becomes jsonb in the SELECT; the rest keeps its own type.
    selects = ", ".join(f"u.{c}::jsonb" if c == "amounts" else f"u.{c}" for c in columns)
    arrays = ", ".join(
        f"%s::{types.get(c, 'text') if c != 'amounts' else 'text'}[]" for c in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO disputes_timelineevent ({', '.join(columns)}) SELECT {selects}"
            f" FROM unnest({arrays}) AS u({', '.join(columns)})",
            [[json.dumps(e[c]) if c == "amounts" else e[c] for e in events] for c in columns],
        )


def timeline_event_add(
    *,
    dispute: Dispute,
    kind: str,
    actor: User | None,
    now: datetime,
    note: str = "",
    amounts: Mapping[str, Decimal] | None = None,
    internal: bool = False,
    deadline: tuple[str, str, datetime] | None = None,
) -> TimelineEvent:
    """Append one event to a dispute's timeline (inside the caller's transaction)."""
    request = dispute.refund_request
    kind_, party, due_at = deadline or ("", "", None)
    return TimelineEvent.objects.create(
        refund_request=request,
        dispute=dispute,
        kind=kind,
        actor=actor,
        at=now,
        amounts=_amounts(request.currency, **(amounts or {})),
        note=note,
        internal=internal,
        deadline_kind=kind_,
        deadline_party=party,
        deadline_due_at=due_at,
    )


def notify_parties(*, dispute: Dispute, kind: str, title: str, body: str, now: datetime) -> None:
    """Tell both parties of a dispute something, after the transaction commits."""
    contract = dispute.refund_request.contract
    notifications_send(
        messages=[
            Message(
                user_id=user_id,
                kind=kind,
                title=f"{title} on “{contract.title}”",
                body=body,
                url=dispute.get_absolute_url(),
            )
            for user_id in (contract.freelancer_id, contract.client_id)
        ],
        now=now,
    )


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
