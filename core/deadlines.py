"""The deadline engine: declared deadlines, and the periodic sweeps that act when a party is silent.

Each kind of deadline is declared once, as a :class:`DeadlineKind`, by the app whose model it
governs (a lower app never imports a higher one, so the engine only knows what was declared):
its label, whose move it is, whether it is enforced or only a service level, the column holding
its due time, its reminder columns and texts, and the batch function that applies it. Everything
else derives from the declaration: the sweep and its reminders, the deadline card of the pages,
the API's ``deadline``, a person's late action (refused, after the deadline was applied: see
``core.actions``) and an agent's extension.

A sweep claims at most ``batch_size`` due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` on an
index over ``(status, <due column>)``, applies to them the same service a person's action uses,
and commits; it repeats until nothing is due. So:

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
records when each reminder went out, so each is sent at most once, whatever the backlog.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Model, QuerySet

logger = logging.getLogger(__name__)

Sweep = Callable[..., int]
_sweeps: dict[str, Sweep] = {}


def when(moment: datetime) -> str:
    """A deadline as written in notifications and timeline notes: "2026-11-30 09:00 UTC"."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Deadline:
    """The deadline that applies to a row now: what, when, and whose move it is."""

    kind: str
    due_at: datetime
    party: str  # "freelancer" | "client" | "parties" | "agent" | "arbitrator"
    starts_at: datetime | None
    label: str
    enforced: bool = True  # False for service levels, which move no money

    def for_party(self, party: str, label: str) -> Deadline:
        return replace(self, party=party, label=label)


def _read(row, path: str | Callable | None):
    if path is None:
        return None
    if callable(path):
        return path(row)
    value = row
    for part in path.split("."):
        value = getattr(value, part)
        if value is None:
            return None
    return value


@dataclass(frozen=True, eq=False)
class DeadlineKind:
    """One kind of deadline, declared once (see the module docstring).

    ``due`` and ``starts`` are a dotted attribute path from the row (``"response_due_at"``,
    ``"refund_request.created_at"``) or a function of the row. A kind with ``apply`` is
    enforced by a sweep over ``due`` (which must then be a column of the model): ``apply(rows,
    now=)`` gets the locked due rows. ``remind(rows, hours, now)`` sends the reminders of the
    columns in ``reminders`` (hours before → "sent at" column). ``load`` narrows or widens what
    the sweep reads of each row.
    """

    name: str
    model: str  # "app_label.ModelName"
    statuses: frozenset[str]
    label: str
    party: str | Callable[[Any], str]
    due: str | Callable[[Any], datetime | None]
    starts: str | Callable[[Any], datetime | None] | None = None
    enforced: bool = True
    apply: Callable[..., None] | None = None
    load: Callable[[QuerySet], QuerySet] | None = None
    reminders: Mapping[int, str] = field(default_factory=dict)
    remind: Callable[[list, int, datetime], None] | None = None
    remind_load: Callable[[QuerySet], QuerySet] | None = None
    sweep: str = ""  # the sweep's name in enforce_deadlines' counts
    reminder_sweep: str = ""
    order: int = 100
    extendable: bool = True
    # Said after "The deadline … passed" when a late action found it applied.
    settled_text: str = ""

    def __post_init__(self):
        object.__setattr__(self, "statuses", frozenset(self.statuses))

    @property
    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    @property
    def due_field(self) -> str:
        if not isinstance(self.due, str) or "." in self.due:
            raise TypeError(f"deadline {self.name} has no due column of its own")
        return self.due

    def applies_to(self, row) -> bool:
        return getattr(row, "status", None) in self.statuses

    def due_at(self, row) -> datetime | None:
        return _read(row, self.due)

    def deadline_of(self, row) -> Deadline | None:
        due = self.due_at(row)
        if due is None:
            return None
        return Deadline(
            kind=self.name,
            due_at=due,
            party=self.party(row) if callable(self.party) else self.party,
            starts_at=_read(row, self.starts),
            label=self.label,
            enforced=self.enforced,
        )

    def queryset(self) -> QuerySet:
        rows = self.model_class._default_manager.filter(status__in=list(self.statuses))
        return self.load(rows) if self.load else rows

    def arm(self, *, due_at: datetime | None, now: datetime) -> dict[str, Any]:
        """The columns to write when a row enters this deadline, due at ``due_at``.

        A deadline only 48 hours away needs no "48 hours left" reminder: the notice that set it
        says so already, so those reminder columns are marked as sent.
        """
        values: dict[str, Any] = {self.due_field: due_at}
        for hours, column in self.reminders.items():
            covered = due_at is not None and due_at - now <= timedelta(hours=hours)
            values[column] = now if covered else None
        return values

    def disarm(self) -> dict[str, Any]:
        """The columns to write when a row leaves this deadline without another one."""
        return {self.due_field: None, **{column: None for column in self.reminders.values()}}

    def extend(self, row, *, due_at: datetime, now: datetime) -> None:
        """Move the deadline of ``row`` to ``due_at`` and re-arm its reminders.

        Only while the row is still in this deadline's statuses and not yet due (a sweep that
        got there first wins, and the extension is refused).
        """
        from .errors import Conflict

        values = self.arm(due_at=due_at, now=now)
        moved = (
            self.model_class._base_manager.filter(
                pk=row.pk,
                status__in=list(self.statuses),
                **{f"{self.due_field}__gt": now},
            ).update(**values)
        )
        if not moved:
            raise Conflict("This deadline was applied meanwhile; it can no longer be extended.")
        for name, value in values.items():
            setattr(row, name, value)

    def settle(self, row, *, now: datetime) -> bool:
        """Apply this deadline to ``row`` now if it is due; return whether it was applied.

        For a person's late action (``core.actions``): the caller holds the row's lock, so the
        row is read again, locked (no SKIP LOCKED: the lock is ours), exactly as the sweep reads
        it, and handed to ``apply``.
        """
        if self.apply is None or not self.applies_to(row):
            return False
        due = self.due_at(row)
        if due is None or now < due:
            return False
        rows = list(
            self.queryset()
            .select_for_update(of=("self",))
            .filter(pk=row.pk, **{f"{self.due_field}__lte": now})
        )
        if not rows:
            return False
        self.apply(rows, now=now)
        return True


_kinds: dict[tuple[str, str], DeadlineKind] = {}


def declare(*kinds: DeadlineKind) -> None:
    """Declare deadline kinds (from an app's AppConfig.ready or services module)."""
    for kind in kinds:
        _kinds[(kind.model.lower(), kind.name)] = kind


def declared() -> list[DeadlineKind]:
    return sorted(_kinds.values(), key=lambda k: (k.order, k.model, k.name))


def kind(name: str, row_or_model) -> DeadlineKind:
    """The kind ``name`` declared for the model of ``row_or_model``."""
    model = row_or_model if isinstance(row_or_model, type) else type(row_or_model)
    return _kinds[(model._meta.concrete_model._meta.label_lower, name)]


def kinds_for(model: type[Model]) -> list[DeadlineKind]:
    """The kinds declared for ``model`` (or the model a proxy stands for), in declared order."""
    label = model._meta.concrete_model._meta.label_lower
    return [k for k in declared() if k.model.lower() == label]


def describe(name: str) -> DeadlineKind | None:
    """The declaration of the kind ``name`` (the one that enforces it, where several show it)."""
    named = [k for k in declared() if k.name == name]
    return next((k for k in named if k.apply is not None), named[0] if named else None)


def current(row) -> Deadline | None:
    """The declared deadline that applies to ``row`` now, or None."""
    for candidate in kinds_for(type(row)):
        if candidate.applies_to(row):
            return candidate.deadline_of(row)
    return None


# --- Stuck rows ---------------------------------------------------------------------------------


def _stuck_ids(kind: DeadlineKind) -> set[int]:
    from .models import StuckDeadline

    return set(
        StuckDeadline.objects.filter(
            model=kind.model.lower(), kind=kind.name, resolved_at__isnull=True
        ).values_list("object_id", flat=True)
    )


def _mark_stuck(kind: DeadlineKind, pk: int, error: BaseException, now: datetime) -> None:
    from .models import StuckDeadline

    text = "".join(traceback.format_exception_only(error)).strip()[:2000]
    logger.error(
        "deadline %s of %s #%s is stuck: %s", kind.name, kind.model, pk, text, exc_info=error
    )
    with transaction.atomic():
        stuck, created = StuckDeadline.objects.select_for_update().get_or_create(
            model=kind.model.lower(),
            kind=kind.name,
            object_id=pk,
            resolved_at=None,
            defaults={"error": text, "first_failed_at": now, "last_failed_at": now},
        )
        if not created:
            stuck.error, stuck.last_failed_at, stuck.failures = text, now, stuck.failures + 1
            stuck.save(update_fields=["error", "last_failed_at", "failures"])


# --- Sweeps -------------------------------------------------------------------------------------


def register(name: str) -> Callable[[Sweep], Sweep]:
    """Register a hand-written sweep under ``name`` (a decorator); registering again replaces it.

    Prefer declaring a :class:`DeadlineKind`, whose sweep retries failed batches row by row.
    """

    def decorator(sweep: Sweep) -> Sweep:
        _sweeps[name] = sweep
        return sweep

    return decorator


def registered() -> dict[str, Sweep]:
    """Every sweep by name, in the order :func:`enforce_deadlines` runs them."""
    sweeps: dict[str, Sweep] = {}
    for declared_kind in declared():
        if declared_kind.apply is not None and declared_kind.sweep:
            sweeps[declared_kind.sweep] = _kind_sweep(declared_kind)
    sweeps.update(sorted((n, s) for n, s in _sweeps.items() if n not in sweeps))
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
    return _exhaust(registered()[name], name, now=now, batch_size=batch_size)


def enforce_deadlines(*, now: datetime, batch_size: int | None = None) -> dict[str, int]:
    """Run every sweep, in order, until none has anything due; return the counts by sweep.

    A sweep that fails is logged and counted as -1; the others run all the same.
    """
    batch_size = batch_size or settings.DEADLINE_SWEEP_BATCH_SIZE
    counts: dict[str, int] = {}
    for name, sweep in registered().items():
        try:
            total = _exhaust(sweep, name, now=now, batch_size=batch_size)
        except Exception:
            logger.exception("deadline sweep %s failed; the other sweeps go on", name)
            counts[name] = -1
            continue
        counts[name] = total
        if total:
            logger.info("deadline sweep %s handled %d row(s)", name, total)
    return counts


def _exhaust(sweep: Sweep, name: str, *, now: datetime, batch_size: int) -> int:
    if name in _sweeps:  # a hand-written sweep handles one batch per call
        total = 0
        while True:
            handled = sweep(now=now, batch_size=batch_size)
            total += handled
            if handled < batch_size:
                return total
    return sweep(now=now, batch_size=batch_size)


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
    skip = _stuck_ids(declared_kind)
    total = 0
    while True:
        claimed: list[int] = []
        try:
            with transaction.atomic():
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
            total += _retry_one_by_one(declared_kind, claimed, now=now, skip=skip)
            continue
        total += len(claimed)
        if len(claimed) < batch_size:
            return total


def _retry_one_by_one(
    declared_kind: DeadlineKind, pks: list[int], *, now: datetime, skip: set[int]
) -> int:
    handled = 0
    for pk in pks:
        try:
            with transaction.atomic():
                rows = claim(
                    declared_kind.queryset().filter(pk=pk),
                    due_field=declared_kind.due_field,
                    now=now,
                    batch_size=1,
                )
                if rows:
                    declared_kind.apply(rows, now=now)
                    handled += 1
        except OperationalError:
            logger.warning(
                "deadline %s of %s #%s: a database error; tried again next run",
                declared_kind.name,
                declared_kind.model,
                pk,
                exc_info=True,
            )
            skip.add(pk)
        except Exception as error:
            _mark_stuck(declared_kind, pk, error, now)
            skip.add(pk)
    return handled


def retry_stuck(stuck, *, now: datetime) -> bool:
    """Try a stuck row's deadline again (staff's admin action); return whether it was applied.

    The mark is lifted first; if the row fails again it is marked stuck anew, with the new
    error. A row no longer due (it was settled meanwhile) just has its mark lifted.
    """
    from .models import StuckDeadline

    StuckDeadline.objects.filter(pk=stuck.pk, resolved_at__isnull=True).update(resolved_at=now)
    declared_kind = _kinds[(stuck.model, stuck.kind)]
    try:
        with transaction.atomic():
            rows = claim(
                declared_kind.queryset().filter(pk=stuck.object_id),
                due_field=declared_kind.due_field,
                now=now,
                batch_size=1,
            )
            if rows:
                declared_kind.apply(rows, now=now)
            return bool(rows)
    except Exception as error:
        _mark_stuck(declared_kind, stuck.object_id, error, now)
        return False


# --- Reminders ----------------------------------------------------------------------------------


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

    A row is reminded only by the reminder of the window it is in: the 24-hour one when due
    within 24 hours, the 48-hour one when due between 24 and 48 hours from now. Sending one
    marks the farther ones as sent, so after a long downtime a party gets the one reminder that
    still makes sense, never an older text as well.
    """
    sent = 0
    nearer = timedelta(0)
    for hours in sorted(reminder.fields):
        column = reminder.fields[hours]
        window_end = timedelta(hours=hours)
        while True:
            with transaction.atomic():
                rows = list(
                    reminder.queryset()
                    .select_for_update(skip_locked=True, of=("self",))
                    .filter(
                        **{
                            f"{reminder.due_field}__gt": now + nearer,
                            f"{reminder.due_field}__lte": now + window_end,
                            f"{column}__isnull": True,
                        }
                    )
                    .order_by(reminder.due_field, "pk")[:batch_size]
                )
                if rows:
                    reminder.send(rows, hours, now)
                    covered = {f: now for h, f in reminder.fields.items() if h >= hours}
                    type(rows[0])._base_manager.filter(pk__any=[row.pk for row in rows]).update(
                        **covered
                    )
                    sent += len(rows)
            if len(rows) < batch_size:
                break
        nearer = window_end
    return sent
