"""The sweeps: periodic passes that apply the declared deadlines when a party stays silent.

A sweep claims at most ``batch_size`` due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` on an
index over ``(status, <due column>)``, applies to them the same service a person's action uses
(the kind's ``apply``), and commits; it repeats until nothing is due. So:

* two sweeps at once split the due rows between them (SKIP LOCKED) and never act twice: a row
  that was handled no longer matches its kind's statuses;
* a sweep after days of downtime simply finds more due rows, and handles each once;
* nothing is scheduled ahead of time (no long ``eta``/``countdown`` tasks): the rows themselves,
  with their ``*_due_at`` timestamps, are the schedule.

Sweeps are isolated. They run in their declared order, and one sweep's failure is logged and
never stops the others. A batch that fails is rolled back and retried one row at a time, so one
bad row cannot hold back its batch; a row that fails on its own is marked stuck (with the
error, in ``core.StuckDeadline``), logged at ERROR, skipped by later runs and listed for staff in
the admin, where they can retry it. A transient database error (a deadlock, a lost connection)
does not make a row stuck: it is simply tried again on the next run.

Reminders (48 and 24 hours before each party-facing deadline) are sweeps too. A row gets only
the reminder of the window it is in — due within 24 hours, the 24-hour text only — and each row
records when each reminder went out, so each is sent at most once, whatever the backlog. Each
reminder is also a ``deadline.reminder`` event for integrators (``webhooks.events``).

Each transaction of a sweep writes its events together at its end, without the objects' data,
which the webhook relay builds right after the batch commits (``webhooks.events.batched``):
serializing thousands of objects per batch would cost more than the sweep.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Model, QuerySet

from .deadlines import DeadlineKind, _kinds, declared

logger = logging.getLogger(__name__)

Sweep = Callable[..., int]


# --- Stuck rows ---------------------------------------------------------------------------------


def _stuck_ids(model: str, kind: str) -> set[int]:
    from .models import StuckDeadline

    return set(
        StuckDeadline.objects.filter(
            model=model.lower(), kind=kind, resolved_at__isnull=True
        ).values_list("object_id", flat=True)
    )


def _mark_stuck(model: str, kind: str, pk: int, error: BaseException, now: datetime) -> None:
    from .models import StuckDeadline

    text = "".join(traceback.format_exception_only(error)).strip()[:2000]
    logger.error("%s of %s #%s is stuck: %s", kind, model, pk, text, exc_info=error)
    with transaction.atomic():
        stuck, created = StuckDeadline.objects.select_for_update().get_or_create(
            model=model.lower(),
            kind=kind,
            object_id=pk,
            resolved_at=None,
            defaults={"error": text, "first_failed_at": now, "last_failed_at": now},
        )
        if not created:
            stuck.error, stuck.last_failed_at, stuck.failures = text, now, stuck.failures + 1
            stuck.save(update_fields=["error", "last_failed_at", "failures"])


def _one_at_a_time(
    pks: list[int], attempt: Callable[[int], bool], *, model: str, kind: str, now, skip: set
) -> int:
    """Retry a failed batch row by row: ``attempt(pk)`` in its own transaction; a row that
    fails alone is marked stuck (a transient database error only skipped for this run)."""
    handled = 0
    for pk in pks:
        try:
            with transaction.atomic(), events_batched():
                handled += bool(attempt(pk))
        except OperationalError:
            logger.warning(
                "%s of %s #%s: a database error; tried again next run",
                kind,
                model,
                pk,
                exc_info=True,
            )
            skip.add(pk)
        except Exception as error:
            _mark_stuck(model, kind, pk, error, now)
            skip.add(pk)
    return handled


def events_batched():
    """Within one of a sweep's transactions: its events are written together at the end."""
    from webhooks.events import batched

    return batched()


# --- Runs ---------------------------------------------------------------------------------------


def sweep_run_record(
    *, name: str, started_at: datetime, finished_at: datetime, handled: int, failures: int = 0
) -> None:
    """Record that the periodic sweep ``name`` finished (``GET /healthz`` reads it)."""
    from .models import SweepRun

    SweepRun.objects.bulk_create(
        [
            SweepRun(
                name=name,
                started_at=started_at,
                finished_at=finished_at,
                handled=max(handled, 0),
                failures=max(failures, 0),
            )
        ],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["started_at", "finished_at", "handled", "failures"],
    )


def last_finished(name: str) -> datetime | None:
    """When the periodic sweep ``name`` last finished, or None."""
    from .models import SweepRun

    return SweepRun.objects.filter(name=name).values_list("finished_at", flat=True).first()


# --- Sweeps -------------------------------------------------------------------------------------


def registered() -> dict[str, Sweep]:
    """Every sweep by name, in the order :func:`enforce_deadlines` runs them."""
    sweeps: dict[str, Sweep] = {}
    for declared_kind in declared():
        if declared_kind.apply is not None and declared_kind.sweep:
            sweeps[declared_kind.sweep] = _kind_sweep(declared_kind)
    for declared_kind in declared():
        if declared_kind.remind is not None and declared_kind.reminder_sweep:
            sweeps[declared_kind.reminder_sweep] = _kind_reminders(declared_kind)
    return sweeps


def _kind_sweep(declared_kind: DeadlineKind) -> Sweep:
    def sweep(*, now: datetime, batch_size: int) -> int:
        return run_sweep(declared_kind, now=now, batch_size=batch_size)

    return sweep


def _kind_reminders(declared_kind: DeadlineKind) -> Sweep:
    def sweep(*, now: datetime, batch_size: int) -> int:
        return send_reminders(
            Reminder(
                queryset=lambda: _remind_queryset(declared_kind),
                due_field=declared_kind.due_field,
                fields=dict(declared_kind.reminders),
                send=declared_kind.remind,
                stuck_as=(declared_kind.model, f"{declared_kind.name} reminder"),
                lifecycle=getattr(declared_kind.model_class, "lifecycle", None),
            ),
            now=now,
            batch_size=batch_size,
        )

    return sweep


def _remind_queryset(declared_kind: DeadlineKind) -> QuerySet:
    rows = declared_kind.model_class._default_manager.filter(
        status__in=list(declared_kind.statuses)
    )
    load = declared_kind.remind_load or declared_kind.load
    return load(rows) if load else rows


def sweep(name: str, *, now: datetime, batch_size: int | None = None) -> int:
    """Run the one sweep called ``name`` until nothing it handles is due; return its count."""
    batch_size = batch_size or settings.DEADLINE_SWEEP_BATCH_SIZE
    return registered()[name](now=now, batch_size=batch_size)


def enforce_deadlines(*, now: datetime, batch_size: int | None = None) -> dict[str, int]:
    """Run every sweep, in order, until none has anything due; return the counts by sweep.

    A sweep that fails is logged and counted as -1; the others run all the same.
    """
    batch_size = batch_size or settings.DEADLINE_SWEEP_BATCH_SIZE
    counts: dict[str, int] = {}
    for name, sweep in registered().items():
        try:
            total = sweep(now=now, batch_size=batch_size)
        except Exception:
            logger.exception("deadline sweep %s failed; the other sweeps go on", name)
            counts[name] = -1
            continue
        counts[name] = total
        if total:
            logger.info("deadline sweep %s handled %d row(s)", name, total)
    return counts


def claim(
    queryset: QuerySet,
    *,
    due_field: str,
    now: datetime,
    batch_size: int,
    exclude: Iterable[int] = (),
) -> list:
    """Lock and return up to ``batch_size`` rows of ``queryset`` due at ``now``, oldest first.

    Rows another transaction holds are skipped, not waited for: that transaction is acting on
    them already. Rows whose ids are in ``exclude`` (stuck ones) are left alone. Call inside a
    transaction.
    """
    queryset = queryset.select_for_update(skip_locked=True, of=("self",)).filter(
        **{f"{due_field}__lte": now}
    )
    excluded = list(exclude)
    if excluded:
        queryset = queryset.exclude(pk__any=excluded)
    return list(queryset.order_by(due_field, "pk")[:batch_size])


def run_sweep(declared_kind: DeadlineKind, *, now: datetime, batch_size: int) -> int:
    """Apply ``declared_kind`` to every row due at ``now``, a batch per transaction.

    A batch that fails is retried one row at a time (see the module docstring). Returns how
    many rows were handled.
    """
    skip = _stuck_ids(declared_kind.model, declared_kind.name)
    total = 0
    while True:
        claimed: list[int] = []
        try:
            with transaction.atomic(), events_batched():
                rows = claim(
                    declared_kind.queryset(),
                    due_field=declared_kind.due_field,
                    now=now,
                    batch_size=batch_size,
                    exclude=skip,
                )
                claimed = [row.pk for row in rows]
                if rows:
                    declared_kind.apply(rows, now=now)
        except Exception:
            if not claimed:
                raise
            logger.warning(
                "deadline sweep %s: a batch of %d failed; retrying it one row at a time",
                declared_kind.name,
                len(claimed),
                exc_info=True,
            )
            total += _one_at_a_time(
                claimed,
                lambda pk: _apply_one(declared_kind, pk, now=now),
                model=declared_kind.model,
                kind=declared_kind.name,
                now=now,
                skip=skip,
            )
            continue
        total += len(claimed)
        if len(claimed) < batch_size:
            return total


def _apply_one(declared_kind: DeadlineKind, pk: int, *, now: datetime) -> bool:
    rows = claim(
        declared_kind.queryset().filter(pk=pk),
        due_field=declared_kind.due_field,
        now=now,
        batch_size=1,
    )
    if rows:
        declared_kind.apply(rows, now=now)
    return bool(rows)


def retry_stuck(stuck, *, now: datetime) -> bool:
    """Try a stuck row's deadline again (staff's admin action); return whether it was applied.

    The mark is lifted first; if the row fails again it is marked stuck anew, with the new
    error. A row no longer due (it was settled meanwhile) just has its mark lifted; so has a
    stuck reminder, which the next run sends.
    """
    from .models import StuckDeadline

    StuckDeadline.objects.filter(pk=stuck.pk, resolved_at__isnull=True).update(resolved_at=now)
    declared_kind = _kinds.get((stuck.model, stuck.kind))
    if declared_kind is None:
        return False
    try:
        with transaction.atomic(), events_batched():
            return _apply_one(declared_kind, stuck.object_id, now=now)
    except Exception as error:
        _mark_stuck(stuck.model, stuck.kind, stuck.object_id, error, now)
        return False


REMINDER_EVENT = "deadline.reminder"


# --- Reminders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """Reminders before one deadline: ``fields`` maps hours-before to the "sent at" column.

    ``stuck_as`` names a row whose reminder fails alone: (model label, mark), see
    :func:`send_reminders`.
    """

    queryset: Callable[[], QuerySet]
    due_field: str
    fields: dict[int, str]
    send: Callable[[Iterable[Model], int, datetime], None]
    stuck_as: tuple[str, str] | None = None
    # The table of the reminded rows, for their ``deadline.reminder`` events (None: no events).
    lifecycle: object | None = None


def send_reminders(reminder: Reminder, *, now: datetime, batch_size: int) -> int:
    """Send each due reminder once; return how many went out.

    A row is reminded only by the reminder of the window it is in: the 24-hour one when due
    within 24 hours, the 48-hour one when due between 24 and 48 hours from now. Sending one
    marks the farther ones as sent, so after a long downtime a party gets the one reminder that
    still makes sense, never an older text as well. A batch that fails is sent one row at a
    time, and a row whose reminder fails alone is marked stuck, like a deadline's row.
    """
    skip = _stuck_ids(*reminder.stuck_as) if reminder.stuck_as else set()
    sent = 0
    nearer = timedelta(0)
    for hours in sorted(reminder.fields):
        column = reminder.fields[hours]
        window = {
            f"{reminder.due_field}__gt": now + nearer,
            f"{reminder.due_field}__lte": now + timedelta(hours=hours),
            f"{column}__isnull": True,
        }

        def remind(rows, hours=hours):
            reminder.send(rows, hours, now)
            if reminder.lifecycle is not None:
                from webhooks.events import record

                record((REMINDER_EVENT,), rows, lifecycle=reminder.lifecycle, now=now)
            covered = {f: now for h, f in reminder.fields.items() if h >= hours}
            type(rows[0])._base_manager.filter(pk__any=[row.pk for row in rows]).update(**covered)

        def due(queryset, window=window):
            return (
                queryset.select_for_update(skip_locked=True, of=("self",))
                .filter(**window)
                .order_by(reminder.due_field, "pk")
            )

        while True:
            claimed: list[int] = []
            try:
                with transaction.atomic(), events_batched():
                    queryset = due(reminder.queryset())
                    if skip:
                        queryset = queryset.exclude(pk__any=list(skip))
                    rows = list(queryset[:batch_size])
                    claimed = [row.pk for row in rows]
                    if rows:
                        remind(rows)
            except Exception:
                if not claimed or reminder.stuck_as is None:
                    raise
                model, mark = reminder.stuck_as

                def attempt(pk, due=due, remind=remind):
                    rows = list(due(reminder.queryset().filter(pk=pk)))
                    if rows:
                        remind(rows)
                    return bool(rows)

                sent += _one_at_a_time(claimed, attempt, model=model, kind=mark, now=now, skip=skip)
                continue
            sent += len(claimed)
            if len(claimed) < batch_size:
                break
        nearer = timedelta(hours=hours)
    return sent
