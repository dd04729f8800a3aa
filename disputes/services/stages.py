"""The stages the mediation and arbitration apps add: moving a dispute on, with its deadline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from accounts.models import User
from core import deadlines
from core.actions import Event, perform

from ..models import Dispute
from . import timeline


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
    started = started_at or now
    if deadline:
        kind_ = deadlines.kind(deadline, Dispute)
        armed = kind_.arm(due_at=due_at, now=started)
        party = kind_.party if isinstance(kind_.party, str) else ""
    else:
        armed = {"response_due_at": None, "reminded_48h_at": None, "reminded_24h_at": None}
        party = ""
    perform(
        Dispute.lifecycle,
        action,
        dispute,
        user=actor,
        now=now,
        checked=True,
        values={"stage_started_at": started, **armed, **(values or {})},
        event=Event(
            kind,
            note=note,
            amounts=timeline.amounts(dispute.refund_request.currency, **(amounts or {})),
            deadline=(deadline, party, due_at) if deadline else None,
        ),
        notify=(
            timeline.notify_parties(
                dispute=dispute, kind=kind.lower(), title=notify_title, body=notify_body
            )
            if notify_title
            else ()
        ),
    )
    return dispute
