"""The contract's own timeline: what happened to it and to its milestones, in order.

The writer of ``Contract.lifecycle`` and ``Milestone.lifecycle``: ``core.actions.perform`` hands
it each row with its event; one INSERT appends them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core import bulk
from core.actions import Event

from .models import Contract, ContractEvent


def write(entries: Sequence[tuple[object, Event]], *, actor, now: datetime) -> None:
    """Append the events of contracts and milestones (``(row, event)`` pairs)."""
    bulk.insert(
        ContractEvent,
        [
            {
                "contract_id": row.pk if isinstance(row, Contract) else row.contract_id,
                "milestone_id": None if isinstance(row, Contract) else row.pk,
                "kind": event.kind,
                "actor_id": event.actor_id or (actor.pk if actor is not None else None),
                "at": now,
                "amounts": dict(event.amounts),
                "note": event.note,
                **event.refs,
            }
            for row, event in entries
        ],
    )
