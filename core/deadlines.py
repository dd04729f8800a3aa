"""The deadline engine: periodic sweeps that act when a party stays silent.

Each app registers its own sweeps here (a lower app never imports a higher one, so the engine
only knows what was registered). A sweep is a function ``sweep(*, now, batch_size) -> int`` that
claims at most ``batch_size`` due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` on an index over
``(status, <deadline>)``, applies to them the same service a person's action uses, commits, and
returns how many rows it handled. :func:`enforce_deadlines` calls every sweep until each has
nothing left, so:

* two sweeps at once split the due rows between them (SKIP LOCKED) and never act twice: a row
  that was handled no longer matches its sweep's status filter;
* a sweep after days of downtime simply finds more due rows, and handles each once;
* nothing is scheduled ahead of time (no long ``eta``/``countdown`` tasks): the rows themselves,
  with their ``*_due_at`` timestamps, are the schedule.

Reminders (48 and 24 hours before each party-facing deadline) are sweeps too; each row records
when each reminder went out, so each is sent once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet

logger = logging.getLogger(__name__)

Sweep = Callable[..., int]
_sweeps: dict[str, Sweep] = {}


def when(moment: datetime) -> str:
    """A deadline as written in notifications and timeline notes: "2026-11-30 09:00 UTC"."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def register(name: str) -> Callable[[Sweep], Sweep]:
    """Register ``sweep`` under ``name`` (a decorator); registering a name again replaces it."""

    def decorator(sweep: Sweep) -> Sweep:
        _sweeps[name] = sweep
        return sweep

    return decorator


def registered() -> dict[str, Sweep]:
    return dict(_sweeps)


def enforce_deadlines(*, now: datetime, batch_size: int | None = None) -> dict[str, int]:
    """Run every registered sweep until none has anything due; return the counts by sweep."""
    batch_size = batch_size or settings.DEADLINE_SWEEP_BATCH_SIZE
    counts: dict[str, int] = {}
    for name, sweep in sorted(_sweeps.items()):
        total = 0
        while True:
            handled = sweep(now=now, batch_size=batch_size)
            total += handled
            if handled < batch_size:
                break
        counts[name] = total
        if total:
            logger.info("deadline sweep %s handled %d row(s)", name, total)
    return counts


def claim(queryset: QuerySet, *, due_field: str, now: datetime, batch_size: int) -> list:
    """Lock and return up to ``batch_size`` rows of ``queryset`` due at ``now``, oldest first.

    Rows another transaction holds are skipped, not waited for: that transaction is acting on
    them already. Call inside a transaction.
    """
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .filter(**{f"{due_field}__lte": now})
        .order_by(due_field, "pk")[:batch_size]
    )


@dataclass(frozen=True)
class Reminder:
    """Reminders before one deadline: ``fields`` maps hours-before to the "sent at" column."""

    queryset: Callable[[], QuerySet]
    due_field: str
    fields: dict[int, str]
    send: Callable[[Iterable[Model], int, datetime], None]


def reminders_already_covered(
    *, due_at: datetime, now: datetime, fields: dict[int, str]
) -> dict[str, datetime]:
    """Return the reminder columns to mark as sent when a deadline is set at ``due_at``.

    A deadline only 48 hours away needs no "48 hours left" reminder: the notice that set it says
    so already. ``fields`` maps hours-before to the "sent at" column, as in :class:`Reminder`.
    """
    return {field: now for hours, field in fields.items() if due_at - now <= timedelta(hours=hours)}


def register_reminder(name: str, reminder: Reminder) -> None:
    """Register the sweep that sends ``reminder``'s reminders under ``name``."""

    def sweep(*, now: datetime, batch_size: int) -> int:
        return send_reminders(reminder, now=now, batch_size=batch_size)

    register(name)(sweep)


def send_reminders(reminder: Reminder, *, now: datetime, batch_size: int) -> int:
    """Send each due reminder once; return how many went out.

    The nearest reminder goes first, and marks the farther ones as sent: after a long downtime a
    party gets the one reminder that still makes sense, not all of them at once.
    """
    sent = 0
    for hours in sorted(reminder.fields):
        field = reminder.fields[hours]
        with transaction.atomic():
            rows = list(
                reminder.queryset()
                .select_for_update(skip_locked=True, of=("self",))
                .filter(
                    **{
                        f"{reminder.due_field}__gt": now,
                        f"{reminder.due_field}__lte": now + timedelta(hours=hours),
                        f"{field}__isnull": True,
                    }
                )
                .order_by(reminder.due_field, "pk")[:batch_size]
            )
            if not rows:
                continue
            reminder.send(rows, hours, now)
            covered = {f: now for h, f in reminder.fields.items() if h >= hours}
            model = type(rows[0])
            model.objects.filter(pk__in=[row.pk for row in rows]).update(**covered)
            sent += len(rows)
    return sent
