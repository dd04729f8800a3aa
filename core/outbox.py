"""The outbox: what a change owes the outside world is a row written in the change's transaction.

An outbox *kind* (:class:`OutboxKind`, declared by the app that owns the rows and registered
here) names a model whose rows owe a delivery — the notification e-mails (``accounts.outbox``),
and later the webhook events — and the function that delivers them. Each such row has three
columns of the outbox, whose names the kind gives:

* ``next_attempt_at``: while the delivery is owed, when it may next be tried; NULL once it was
  delivered or given up (only the owed rows are in its partial index);
* ``attempts``: how many times the row was claimed;
* ``error``: why the last attempt failed, or why the delivery was given up.

A delivery is *claim* → *deliver* → *settle*:

1. The change writes its rows with ``next_attempt_at = now + grace``; once its transaction
   commits, :func:`enqueue_on_commit` sends the kind's task with the new ids. That never
   raises: with the broker down the rows just stay owed, and the action answers as usual.
2. :func:`relay` claims rows in a short transaction — ``SELECT … FOR UPDATE SKIP LOCKED``, then
   ``attempts + 1`` and ``next_attempt_at = now + grace`` (the lease). A claimed row is its
   claimer's until the lease ends: two relays never claim one row at once.
3. The kind's ``deliver(ids, now=)`` delivers the claimed rows outside any transaction and
   reports what became of each (:class:`Outcome`).
4. :func:`relay` settles them: a delivered row is no longer owed; a row that failed is tried
   again after the kind's ``retry_after(attempts)`` or, when that is None, given up with an
   ERROR in the log; a row not tried because the far side was unreachable is released without
   counting the attempt (an outage delays a delivery, never uses up its attempts).

The task claims only its own rows that nobody claimed yet; the relay sweep (:func:`redeliver`,
from beat every minute) claims every owed row whose time came: the rows a lost task, a dead
worker or a broker outage left behind, once the grace period is over, and the rows whose
delivery was killed midway, once their lease is over. Delivery is therefore at least once (a
worker killed after sending but before settling sends again after the lease), and once per row
in normal operation. Receivers that must never see a duplicate deduplicate on the row's id.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from django.apps import apps
from django.db import DatabaseError, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a kind's ``deliver`` made of the claimed rows, by id.

    A row named nowhere stays claimed until its lease ends, as if the delivery had died.
    """

    delivered: list[int] = field(default_factory=list)
    # The row's own failure (a refused address): tried again later, or given up.
    failed: dict[int, str] = field(default_factory=dict)
    # Owed nothing after all (a user without an e-mail address): settled, the reason kept.
    skipped: dict[int, str] = field(default_factory=dict)
    # Not tried: the far side cannot be reached. The attempt does not count.
    unreachable: list[int] = field(default_factory=list)
    reason: str = ""  # why it cannot be reached


@dataclass(frozen=True)
class OutboxKind:
    """One kind of outbox row (see the module docstring).

    ``task`` is the dotted path of the Celery task that delivers given rows: it takes their
    ids as the keyword argument ``task_ids`` and calls :func:`deliver_now`. ``grace`` is how
    long a new row waits for its task before the relay sweep takes it, and how long a claim
    lasts; ``retry_after(attempts)`` the wait after a failed attempt (None: give up);
    ``max_attempts`` the claims after which a row that never settles is given up. A failed
    row whose retry comes within ``requeue_within`` is not left to the relay sweep: its task is
    sent again with that countdown (the first quick retries of a webhook).
    """

    name: str
    model: str  # "app_label.ModelName"
    task: str
    task_ids: str
    deliver: Callable[..., Outcome]
    grace: Callable[[], timedelta]
    batch_size: Callable[[], int]
    retry_after: Callable[[int], timedelta | None]
    max_attempts: Callable[[], int]
    delivered_at: str = "delivered_at"
    next_attempt_at: str = "next_attempt_at"
    attempts: str = "attempts"
    error: str = "error"
    requeue_within: timedelta = timedelta(0)

    @property
    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    def first_attempt_at(self, now: datetime) -> datetime:
        """The ``next_attempt_at`` of a new row: its task has the grace period to deliver it."""
        return now + self.grace()

    def owed(self) -> QuerySet:
        """The rows whose delivery is still owed."""
        return self.model_class._base_manager.filter(**{f"{self.next_attempt_at}__isnull": False})


_kinds: dict[str, OutboxKind] = {}


def register(kind: OutboxKind) -> OutboxKind:
    """Declare ``kind`` (once, when its app loads); return it."""
    _kinds[kind.name] = kind
    return kind


def registered() -> list[OutboxKind]:
    return list(_kinds.values())


def kind_named(name: str) -> OutboxKind:
    return _kinds[name]


# --- Enqueueing ---------------------------------------------------------------------------------

# The options of a kind's tasks. A delivery is acknowledged only once it finished, and taken
# again when its worker is lost; the rows it already delivered are no longer owed, so a second
# run delivers nothing twice. A database that is away is waited for.
TASK_OPTIONS = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 5,
}

# Connect once (kombu's default is to retry for the connect timeout, seconds on end).
TRY_ONCE = {"max_retries": 0}


def enqueue_on_commit(kind: OutboxKind, ids: Iterable[int]) -> None:
    """Once the current transaction commits, send ``kind``'s task for ``ids``; never raise."""
    ids = list(ids)
    if ids:
        transaction.on_commit(functools.partial(enqueue, kind, ids))


def enqueue(kind: OutboxKind, ids: list[int], *, countdown: timedelta | None = None) -> bool:
    """Send ``kind``'s task for ``ids`` now (to run after ``countdown``, if given); return
    whether the broker took it.

    A failure is logged and swallowed: the rows are owed, and the relay sweep delivers them
    once the grace period is over. For the same reason the broker is tried once, without the
    publishing retries: the person or the sweep that made the change never waits for a broker
    that is down.
    """
    try:
        task = import_string(kind.task)
        with task.app.connection_for_write(transport_options=TRY_ONCE) as connection:
            task.apply_async(
                kwargs={kind.task_ids: ids},
                countdown=countdown.total_seconds() if countdown else None,
                connection=connection,
                retry=False,
            )
    except Exception:
        logger.warning(
            "%s: could not enqueue the delivery of %d row(s); the relay sweep delivers them",
            kind.name,
            len(ids),
            exc_info=True,
        )
        return False
    return True


# --- Relaying -----------------------------------------------------------------------------------


@dataclass
class Relayed:
    """What one or more relay passes did."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0  # will be tried again
    given_up: int = 0
    skipped: int = 0
    unreachable: int = 0

    def __iadd__(self, other: Relayed) -> Relayed:
        for each in fields(self):
            setattr(self, each.name, getattr(self, each.name) + getattr(other, each.name))
        return self


def deliver_now(kind: OutboxKind, *, ids: list[int], now: datetime) -> Relayed:
    """Deliver the rows ``ids`` that nobody claimed yet (what the kind's task does)."""
    done = Relayed()
    while True:
        batch = relay(kind, now=now, ids=ids)
        done += batch
        if batch.claimed < kind.batch_size() or batch.unreachable:
            return done


def redeliver(kind: OutboxKind, *, now: datetime) -> Relayed:
    """The relay sweep: deliver every owed row whose time came, a batch at a time.

    First gives up the rows claimed ``max_attempts`` times that never settled (a delivery that
    keeps killing its worker). Stops early when the far side cannot be reached.
    """
    done = Relayed(given_up=_give_up_unsettled(kind, now=now))
    while True:
        batch = relay(kind, now=now)
        done += batch
        if batch.claimed < kind.batch_size() or batch.unreachable:
            return done


def relay(kind: OutboxKind, *, now: datetime, ids: list[int] | None = None) -> Relayed:
    """Claim one batch — of ``ids`` not claimed yet, or of every owed row whose time came —
    deliver it and settle it."""
    claimed = claim(kind, now=now, ids=ids)
    if not claimed:
        return Relayed()
    try:
        outcome = kind.deliver(list(claimed), now=now)
    except Exception as error:
        logger.exception("%s: delivering %d row(s) failed", kind.name, len(claimed))
        outcome = Outcome(failed=dict.fromkeys(claimed, _describe(error)))
    done = _settle(kind, claimed, outcome, now=now)
    _requeue_soon(kind, claimed, outcome)
    return done


def _requeue_soon(kind: OutboxKind, claimed: dict[int, int], outcome: Outcome) -> None:
    """Send the task again, with a countdown, for the failed rows due again very soon."""
    if not kind.requeue_within:
        return
    soon: dict[timedelta, list[int]] = {}
    for pk in outcome.failed:
        wait = kind.retry_after(claimed[pk])
        if wait is not None and wait <= kind.requeue_within:
            soon.setdefault(wait, []).append(pk)
    for wait, ids in soon.items():
        enqueue(kind, ids, countdown=wait)


def claim(kind: OutboxKind, *, now: datetime, ids: list[int] | None = None) -> dict[int, int]:
    """Claim up to a batch of owed rows; return their attempts (this one included) by id.

    Claims the rows of ``ids`` that nobody claimed yet, or, without ``ids``, the owed rows
    whose time came. The caller delivers and settles them; a claim never settled is taken back
    by the relay sweep once its lease is over.
    """
    due = Q(**{f"{kind.next_attempt_at}__lte": now})
    owed = kind.owed().filter(**{f"{kind.attempts}__lt": kind.max_attempts()})
    if ids is None:
        owed = owed.filter(due)
    else:
        owed = owed.filter(Q(**{kind.attempts: 0}) | due, pk__any=ids)
    with transaction.atomic():
        rows = list(
            owed.select_for_update(skip_locked=True, of=("self",))
            .order_by(kind.next_attempt_at, "pk")
            .values_list("pk", kind.attempts)[: kind.batch_size()]
        )
        if not rows:
            return {}
        pks = [pk for pk, _ in rows]
        taken = owed.filter(pk__any=pks).update(
            **{kind.attempts: F(kind.attempts) + 1, kind.next_attempt_at: now + kind.grace()}
        )
        if taken != len(pks):
            # Only where rows are not locked (SQLite): another relay took some meanwhile.
            transaction.set_rollback(True)
            return {}
    return {pk: attempts + 1 for pk, attempts in rows}


def _settle(kind: OutboxKind, claimed: dict[int, int], outcome: Outcome, *, now) -> Relayed:
    done = Relayed(claimed=len(claimed))
    rows = kind.model_class._base_manager
    retry: dict[int, tuple[datetime, str]] = {}
    given_up: dict[int, str] = {}
    for pk, error in outcome.failed.items():
        wait = kind.retry_after(claimed[pk])
        if wait is None:
            given_up[pk] = f"Given up after {claimed[pk]} attempt(s): {error}"
        else:
            retry[pk] = (now + wait, error)
    with transaction.atomic():
        if outcome.delivered:
            rows.filter(pk__any=outcome.delivered).update(
                **{kind.delivered_at: now, kind.next_attempt_at: None, kind.error: ""}
            )
        for pk, reason in {**outcome.skipped, **given_up}.items():
            rows.filter(pk=pk).update(**{kind.next_attempt_at: None, kind.error: reason[:2000]})
        for pk, (at, error) in retry.items():
            rows.filter(pk=pk).update(**{kind.next_attempt_at: at, kind.error: error[:2000]})
        if outcome.unreachable:
            rows.filter(pk__any=outcome.unreachable).update(
                **{
                    kind.attempts: F(kind.attempts) - 1,
                    kind.next_attempt_at: now + kind.grace(),
                    kind.error: outcome.reason[:2000],
                }
            )
    for pk, reason in given_up.items():
        logger.error("%s: gave up delivering #%s. %s", kind.name, pk, reason)
    if outcome.unreachable:
        logger.warning(
            "%s: %d row(s) wait, the far side cannot be reached: %s",
            kind.name,
            len(outcome.unreachable),
            outcome.reason,
        )
    done.delivered = len(outcome.delivered)
    done.failed = len(retry)
    done.given_up = len(given_up)
    done.skipped = len(outcome.skipped)
    done.unreachable = len(outcome.unreachable)
    return done


def _give_up_unsettled(kind: OutboxKind, *, now: datetime) -> int:
    """Give up the rows whose every claim ended without settling; return how many."""
    stuck = kind.owed().filter(
        **{f"{kind.next_attempt_at}__lte": now, f"{kind.attempts}__gte": kind.max_attempts()}
    )
    pks = list(stuck.order_by("pk").values_list("pk", flat=True)[:1000])
    if not pks:
        return 0
    reason = "Given up: every attempt ended without a result (was the worker killed?)."
    stuck.filter(pk__any=pks).update(**{kind.next_attempt_at: None, kind.error: reason})
    listed = ", ".join(f"#{pk}" for pk in pks)
    logger.error("%s: gave up delivering %s. %s", kind.name, listed, reason)
    return len(pks)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
