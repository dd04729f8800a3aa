"""The stages the mediation and arbitration apps add: moving a dispute on, with its deadline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from core import deadlines
from core.actions import Event, perform

from ..models import Dispute
from . import timeline


@dataclass(frozen=True)
class Advance:
    """One dispute to move on (locked), and what differs from one dispute to the next: when
    its new stage starts (default: now) and its deadline falls, its note and notification."""

    dispute: Dispute
    due_at: datetime | None = None
    started_at: datetime | None = None
    note: str = ""
    notify_body: str = ""
    amounts: Mapping[str, object] | None = None
    values: Mapping[str, object] | None = None


def dispute_advance(
    *,
    dispute: Dispute,
    action: str,
    kind: str,
    actor: User | None,
    now: datetime,
    deadline: str = "",
    due_at: datetime | None = None,
    started_at: datetime | None = None,
    note: str = "",
    amounts: Mapping[str, object] | None = None,
    values: Mapping[str, object] | None = None,
    notify_title: str = "",
    notify_body: str = "",
) -> Dispute:
    """Move a locked dispute on by ``action`` into a stage whose deadline kind is ``deadline``
    (due at ``due_at``), or with no deadline; say so on the timeline and to both parties.

    The caller checked the person (``actor``) for ``action``; None is the system. The stage
    starts at ``started_at`` (default ``now``): a notice dated from the deadline that caused it
    opens the same window whenever the sweep runs. The stage's reminders start afresh.
    """
    disputes_advance(
        advances=[
            Advance(
                dispute=dispute,
                due_at=due_at,
                started_at=started_at,
                note=note,
                notify_body=notify_body,
                amounts=amounts,
                values=values,
            )
        ],
        action=action,
        kind=kind,
        actor=actor,
        now=now,
        deadline=deadline,
        notify_title=notify_title,
    )
    return dispute


def disputes_advance(
    *,
    advances: list[Advance],
    action: str,
    kind: str,
    actor: User | None,
    now: datetime,
    deadline: str = "",
    notify_title: str = "",
) -> None:
    """:func:`dispute_advance` for a whole sweep's batch: one ``perform`` for every dispute, so
    the statuses, the timeline, the notifications and the events are written a few statements
    per batch, whatever its size."""
    if not advances:
        return
    kind_ = deadlines.kind(deadline, Dispute) if deadline else None
    party = kind_.party if kind_ is not None and isinstance(kind_.party, str) else ""
    of = {advance.dispute.pk: advance for advance in advances}

    def values(dispute: Dispute) -> dict:
        advance = of[dispute.pk]
        started = advance.started_at or now
        if kind_ is not None:
            armed = kind_.arm(due_at=advance.due_at, now=started)
        else:
            armed = {"response_due_at": None, "reminded_48h_at": None, "reminded_24h_at": None}
        return {"stage_started_at": started, **armed, **(advance.values or {})}

    def event(dispute: Dispute) -> Event:
        advance = of[dispute.pk]
        return Event(
            kind,
            note=advance.note,
            amounts=timeline.amounts(dispute.refund_request.currency, **(advance.amounts or {})),
            deadline=(deadline, party, advance.due_at) if deadline else None,
        )

    perform(
        Dispute.lifecycle,
        action,
        [advance.dispute for advance in advances],
        user=actor,
        now=now,
        checked=True,
        values=values,
        event=event,
        notify=[
            message
            for advance in advances
            for message in timeline.notify_parties(
                dispute=advance.dispute,
                kind=kind.lower(),
                title=notify_title,
                body=advance.notify_body,
            )
        ]
        if notify_title
        else (),
    )
