"""Declared deadlines: each kind once, and everything else derived from the declaration.

Each kind of deadline is declared once, as a :class:`DeadlineKind`, by the app whose model it
governs (a lower app never imports a higher one, so the engine only knows what was declared):
its label, whose move it is, whether it is enforced or only a service level, the column holding
its due time, its reminder columns and texts, and the batch function that applies it. Everything
else derives from the declaration: the sweep and its reminders (``core.sweeps``), the deadline
card of the pages and the API's ``deadline`` (:func:`current`), a person's late action (refused,
after the deadline was applied: :meth:`DeadlineKind.settle`, called by ``core.actions``) and an
agent's extension (:meth:`DeadlineKind.extend`).

The sweep functions are re-exported here (``deadlines.enforce_deadlines``), the one name the
beat task, the command and the tests use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Model, QuerySet


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
    task: str = ""  # what the one whose move it is does by then: "propose a resolution"

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
    # What the one whose move it is does by the deadline, to follow "Service level: " or
    # "Deadline: " on staff pages ("propose a resolution").
    task: str = ""
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

    def has_passed(self, row, *, now: datetime) -> bool:
        """Whether ``row`` is in a state this deadline acts on and its due moment has come:
        from that moment itself on, the sweep and :meth:`settle` apply it."""
        if not self.applies_to(row):
            return False
        due = self.due_at(row)
        return due is not None and now >= due

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
            task=self.task,
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
        moved = self.model_class._base_manager.filter(
            pk=row.pk,
            status__in=list(self.statuses),
            **{f"{self.due_field}__gt": now},
        ).update(**values)
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
        if self.apply is None or not self.has_passed(row, now=now):
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


def catch_up(row, *, now: datetime, limit: int = 5) -> list[str]:
    """Apply, in turn, each deadline of ``row`` (locked) that has passed; return their names.

    What a sweep that ran on time would have done: a resolution's deadline issues the notice
    (its arbitration window dated from that deadline), and if that window has passed as well,
    it closes too. The row is read again after each.
    """
    applied: list[str] = []
    for _ in range(limit):
        due_kind = next(
            (k for k in kinds_for(type(row)) if k.apply is not None and k.has_passed(row, now=now)),
            None,
        )
        if due_kind is None or not due_kind.settle(row, now=now):
            break
        applied.append(due_kind.name)
        row.refresh_from_db()
    return applied


def ensure_within_reach(due_at: datetime, *, now: datetime, field: str = "due_at") -> None:
    """Refuse a deadline a person sets further ahead than DEADLINE_MAX_AHEAD (400)."""
    from django.conf import settings

    from .errors import InvalidInput

    if due_at - now > settings.DEADLINE_MAX_AHEAD:
        days = settings.DEADLINE_MAX_AHEAD.days
        message = f"A deadline can be set at most {days} days ahead."
        raise InvalidInput(message, code="invalid_due_at", fields={field: [message]})


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


# The sweeps, for the callers that know them as part of the deadline engine.
from .sweeps import (  # noqa: E402
    claim,
    enforce_deadlines,
    registered,
    retry_stuck,
    run_sweep,
    sweep,
)

__all__ = [
    "Deadline",
    "DeadlineKind",
    "catch_up",
    "claim",
    "current",
    "declare",
    "declared",
    "describe",
    "enforce_deadlines",
    "kind",
    "kinds_for",
    "registered",
    "retry_stuck",
    "run_sweep",
    "sweep",
    "when",
]
