"""Where a sweep batch's time goes: the expiry sweep run once with timers around its phases.

The timers wrap the module attributes the sweep calls through (``sweeps.claim``,
``contract_services.milestones_settle``, ``ledger.post_many``, …) and every SQL statement (Django's
``execute_wrapper``), the COMMIT and the on-commit hooks, then are removed. They add a little
overhead of their own, so these figures explain the timed runs; they are not one of them.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime

from django.conf import settings
from django.db import connections

SWEEP = "disputes.refund_requests_expire"
CLAIM = "claim (SELECT … FOR UPDATE SKIP LOCKED)"


class Timers:
    """Seconds and calls by name, counted only while ``active`` (inside the expiry sweep)."""

    def __init__(self) -> None:
        self.active = False
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.series: dict[str, list[float]] = defaultdict(list)

    def add(self, name: str, seconds: float) -> None:
        if self.active:
            self.seconds[name] += seconds
            self.calls[name] += 1
            self.series[name].append(seconds)

    def wrap(self, name: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)

        return timed

    def scope(self, name: str, function: Callable) -> Callable:
        """Wrap ``function`` as the scope: the timers count only during its calls."""

        def timed(*args, **kwargs):
            self.active = True
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)
                self.active = False

        return timed


@contextmanager
def patched(owner: object, attribute: str, replacement: object) -> Iterator[None]:
    """Replace ``owner.attribute`` for the block; restore it (or the class's) afterwards."""
    own = attribute in vars(owner)
    original = getattr(owner, attribute)
    setattr(owner, attribute, replacement)
    try:
        yield
    finally:
        if own:
            setattr(owner, attribute, original)
        else:
            delattr(owner, attribute)


def _label(sql: str) -> str:
    verb = sql.split(None, 1)[0].upper()
    if verb == "SELECT":
        match = re.search(r'\bFROM "(\w+)"', sql)
    elif verb == "INSERT":
        match = re.search(r'\bINTO "(\w+)"', sql)
    else:
        match = re.search(r'^\w+ "(\w+)"', sql)
    label = f"{verb} {match.group(1) if match else '?'}"
    return label + (" FOR UPDATE" if "FOR UPDATE" in sql else "")


def instrumented_sweep(*, now: datetime) -> list[str]:
    """Run ``enforce_deadlines(now=now)`` with timers; return the report's lines."""
    import accounts.services
    import contracts.ledger
    import contracts.services
    import core.bulk
    import core.deadlines
    import core.sweeps
    import disputes.services.refund_requests

    timers = Timers()
    connection = connections["default"]
    sql_seconds: dict[str, float] = defaultdict(float)
    sql_calls: dict[str, int] = defaultdict(int)

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if timers.active:
                sql_seconds[_label(sql)] += time.perf_counter() - started
                sql_calls[_label(sql)] += 1

    run_sweep = core.sweeps.run_sweep
    timed_sweep = timers.scope("expiry sweep (all batches)", run_sweep)

    def sweep_timed_alone(declared_kind, **kwargs):
        chosen = timed_sweep if declared_kind.sweep == SWEEP else run_sweep
        return chosen(declared_kind, **kwargs)

    with ExitStack() as stack:
        stack.enter_context(connection.execute_wrapper(record))
        for owner, attribute, name in (
            (core.sweeps, "claim", CLAIM),
            (disputes.services.refund_requests, "refund_requests_refund", "refund_requests_refund"),
            (contracts.services, "milestones_settle", "  milestones_settle"),
            (contracts.ledger, "account_ids_get_or_create", "    account_ids_get_or_create"),
            (contracts.ledger, "post_many", "    ledger.post_many"),
            (core.bulk, "insert", "  timeline insert"),
            (accounts.services, "notifications_send", "  notifications_send"),
            (connection, "_commit", "COMMIT (deferred ledger triggers, WAL flush)"),
            (connection, "run_and_clear_commit_hooks", "on-commit hooks (Celery enqueue)"),
        ):
            stack.enter_context(
                patched(owner, attribute, timers.wrap(name, getattr(owner, attribute)))
            )
        stack.enter_context(patched(core.sweeps, "run_sweep", sweep_timed_alone))
        started = time.perf_counter()
        counts = core.deadlines.enforce_deadlines(now=now)
        total = time.perf_counter() - started

    batches = timers.calls["expiry sweep (all batches)"]
    handled = counts.get(SWEEP, 0)
    lines = [
        f"{handled:,} expired in {total:.3f} s with timers on ({handled / total:,.0f}/s); "
        f"{batches} run of the expiry sweep; "
        f"ms/batch = total / {handled / settings.DEADLINE_SWEEP_BATCH_SIZE:g} batches of "
        f"{settings.DEADLINE_SWEEP_BATCH_SIZE}. Only the expiry sweep is timed.",
        "",
        f"{'phase (inclusive; indented = inside the line above)':<56} {'total s':>8} "
        f"{'ms/batch':>9}",
    ]
    full_batches = handled / settings.DEADLINE_SWEEP_BATCH_SIZE
    for name in (
        "expiry sweep (all batches)",
        CLAIM,
        "refund_requests_refund",
        "  milestones_settle",
        "    account_ids_get_or_create",
        "    ledger.post_many",
        "  timeline insert",
        "  notifications_send",
        "COMMIT (deferred ledger triggers, WAL flush)",
        "on-commit hooks (Celery enqueue)",
    ):
        seconds = timers.seconds.get(name, 0.0)
        lines.append(f"{name:<56} {seconds:>8.3f} {seconds / full_batches * 1000:>9.1f}")
    sql_total = sum(sql_seconds.values())
    whole = timers.seconds["expiry sweep (all batches)"]
    commit = timers.seconds["COMMIT (deferred ledger triggers, WAL flush)"]
    hooks = timers.seconds["on-commit hooks (Celery enqueue)"]
    lines += [
        "",
        f"{'SQL statements (round trip, by verb and table)':<56} {'total s':>8} "
        f"{'ms/batch':>9} {'calls':>6}",
    ]
    for label, seconds in sorted(sql_seconds.items(), key=lambda item: -item[1]):
        lines.append(
            f"{label:<56} {seconds:>8.3f} {seconds / full_batches * 1000:>9.1f} "
            f"{sql_calls[label]:>6}"
        )
    python = whole - sql_total - commit - hooks
    lines += [
        f"{'all SQL statements':<56} {sql_total:>8.3f} {sql_total / full_batches * 1000:>9.1f}",
        f"{'Python (ORM, model building, transitions) = rest':<56} {python:>8.3f} "
        f"{python / full_batches * 1000:>9.1f}",
        "",
        "claim, ms by batch: " + " ".join(f"{s * 1000:.0f}" for s in timers.series[CLAIM]),
        "COMMIT, ms by batch: "
        + " ".join(
            f"{s * 1000:.0f}" for s in timers.series["COMMIT (deferred ledger triggers, WAL flush)"]
        ),
    ]
    return lines
