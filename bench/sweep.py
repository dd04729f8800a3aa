"""Benchmark the refund-request expiry sweep on PostgreSQL and print its figures.

    make bench        # or: .venv/bin/python -m bench.sweep

On its own database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/disputes_bench``; its name must contain "bench", since it is
dropped, re-created and migrated for each run):

1. The reference: ``pgbench -i -s 1`` into ``pgbench_ref`` on the same server, then
   ``pgbench -c 1 -j 1 -T 10`` (TPC-B), and its "tps" without connection time.
2. Run 1: 10,000 overdue refund requests, bulk-loaded by :mod:`bench.load` row for row as the
   services leave them, then ``core.deadlines.enforce_deadlines(now=NOW)``, what the Celery beat
   task runs, timed alone at the default DEADLINE_SWEEP_BATCH_SIZE. sweep_per_s = 10,000 / t1.
3. Run 2: the same on a fresh database that also holds 1,000,000 OPEN refund requests not yet
   due, after VACUUM ANALYZE; size_ratio = t2 / t1. The claim query's plan is printed.

Each run sweeps ``BENCH_REPEAT`` (default 2) fresh sets of due rows and keeps the fastest sweep.
Before and after, the ledger must pass ``manage.py check_ledger``'s checks, and every due row
must have been expired with all its side effects: the REFUND transaction, the REFUND_EXPIRED
event and the two notifications, whose e-mails are enqueued on commit as in production (on
Celery's in-memory broker: no server, nothing consumes them). The shared cache is Redis, as in
production (``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/14``; empty for the database
table): a sweep drops there the stamps of the users whose cases it moved (``core.stamps``).

``BENCH_BREAKDOWN=1`` adds an instrumented run showing where a batch's time goes (not part of
the figures); ``BENCH_DUE`` and ``BENCH_NOT_DUE`` change the row counts. The script exits 0
whether or not the targets are met, and ends with four lines for scripts to read:
``sweep_per_s``, ``pgbench_tps``, ``sweep_vs_pgbench`` and ``size_ratio``.

It is one script, read and run top to bottom, so it stays in one module.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/disputes_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PGBENCH_DATABASE = "pgbench_ref"
PGBENCH_SECONDS = 10
DUE = int(os.environ.get("BENCH_DUE", "10000"))
NOT_DUE = int(os.environ.get("BENCH_NOT_DUE", "1000000"))
NOT_DUE_CONTRACTS = 1000
# Each run sweeps REPEAT fresh sets of due rows and keeps the fastest: a noisy machine then
# needs to be quiet for one sweep of each run, not for the whole bench.
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "2")))
# A fixed clock: every run sees the same deadlines.
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SWEEP = "disputes.refund_requests_expire"
SPEED_TARGET = 1.5  # expirations per second, as a multiple of pgbench's TPS
SIZE_TARGET = 1.2  # t(10k due beside 1M not due) / t(10k due alone), at most


# --- Server and database ----------------------------------------------------------------------


class Server:
    """The PostgreSQL server of ``url``, and the bench database on it."""

    def __init__(self, url: str, *, variable: str = "BENCH_DATABASE_URL"):
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = unquote(parts.username or "postgres")
        self.password = unquote(parts.password) if parts.password else None
        self.database = parts.path.lstrip("/")
        if "bench" not in self.database:
            raise SystemExit(
                f"{variable} names {self.database!r}: the bench drops and re-creates its "
                "database, so its name must contain 'bench'."
            )

    def admin(self, *statements: str) -> list[tuple]:
        """Run ``statements`` on the server's ``postgres`` database, outside a transaction;
        return the rows of the last one."""
        import psycopg

        rows: list[tuple] = []
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            for statement in statements:
                cursor = conn.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows

    def recreate(self, database: str) -> None:
        self.admin(
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'CREATE DATABASE "{database}"'
        )

    def pgbench(self, *args: str) -> str:
        binary = shutil.which(os.environ.get("PGBENCH", "pgbench"))
        if binary is None:
            raise SystemExit("pgbench is not on PATH (set PGBENCH to its path).")
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        command = [binary, "-h", self.host, "-p", str(self.port), "-U", self.user, *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return done.stdout + done.stderr


def configure_django(server: Server) -> None:
    """Point Django at the bench database, with offline e-mail and an in-memory broker."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = server.url
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DEBUG"] = "false"  # as in production: no query log kept in memory
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The shared cache, as in production: a sweep drops the stamps of the users it touches there
    # (core.stamps). BENCH_REDIS_URL="" measures the database table instead.
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    import django

    django.setup()
    # Kombu warns, as the process exits, that memory:// names no host; that is the point.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)


def fresh_database(server: Server) -> None:
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    server.recreate(server.database)
    call_command("migrate", verbosity=0, interactive=False)


def sql(statement: str, params=None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


# --- Output -----------------------------------------------------------------------------------


def say(line: str = "") -> None:
    print(line, flush=True)


def heading(title: str) -> None:
    say()
    say(f"== {title} " + "=" * max(0, 74 - len(title)))


# --- pgbench ------------------------------------------------------------------------------------


def pgbench_reference(server: Server, database: str = PGBENCH_DATABASE) -> float:
    """pgbench's TPS (TPC-B, one client) on the server, in ``database``, dropped after."""
    heading(f"pgbench reference: TPC-B, 1 client, {PGBENCH_SECONDS} s, scale 1")
    server.recreate(database)
    server.pgbench("-i", "-s", "1", "-q", database)
    server.admin("CHECKPOINT")
    output = server.pgbench("-c", "1", "-j", "1", "-T", str(PGBENCH_SECONDS), database)
    for line in output.splitlines():
        if line.startswith(("number of transactions actually", "latency average", "tps")):
            say(f"  {line}")
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    if not match:
        raise SystemExit(f"Could not read pgbench's tps from:\n{output}")
    server.admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return float(match.group(1))


# --- Loading ------------------------------------------------------------------------------------


def due_batch(prefix: str):
    """DUE refund requests, one contract each, overdue by 1 hour + i seconds (all distinct)."""
    from django.conf import settings

    from bench.load import Batch

    period = settings.REFUND_REQUEST_RESPONSE_PERIOD
    return Batch(
        prefix=prefix,
        cases=DUE,
        contracts=DUE,
        first_end=NOW - period - timedelta(hours=1, seconds=1),
        end_step=timedelta(seconds=-1),
    )


def not_due_batch():
    """NOT_DUE refund requests on 1,000 contracts, due between 49 hours and the full period from
    now: past the 48-hour reminder window, so no reminder sweep has anything to send either.

    Leaner than the due ones, to load a million in about a minute: the client paid nothing on
    ending (no RELEASE transaction: E = R), and their history (timeline events, notifications)
    is left out; the sweep only appends to those tables. Contracts, milestones, escrow accounts
    and FUNDING transactions are all there, and consistent.
    """
    from decimal import Decimal

    from django.conf import settings

    from bench.load import Batch

    period = settings.REFUND_REQUEST_RESPONSE_PERIOD
    first_due = NOW + timedelta(hours=49)
    step = (period - timedelta(hours=49)) / NOT_DUE_CONTRACTS
    return Batch(
        prefix="later",
        cases=NOT_DUE,
        contracts=NOT_DUE_CONTRACTS,
        first_end=first_due - period,
        end_step=step,
        paid=Decimal("0.00"),
        history=False,
    )


def load(batch, *, unchecked: bool = False) -> None:
    from bench.load import load_refund_requests, orphans

    started = time.perf_counter()
    timings = load_refund_requests(batch, now=NOW, unchecked=unchecked)
    total = time.perf_counter() - started
    unchecked = timings.pop("unchecked", None) is not None
    steps = ", ".join(f"{table} {s:.1f}" for table, s in timings.items())
    how = (
        "foreign-key and ledger triggers skipped, checked below"
        if unchecked
        else "foreign-key and ledger triggers on"
    )
    say(
        f"  loaded {batch.cases:,} refund requests on {batch.contracts:,} contracts in "
        f"{total:.1f} s ({how})"
    )
    say(f"    seconds: {steps}")
    if unchecked:
        started = time.perf_counter()
        found = orphans()
        bad = {name: n for name, n in found.items() if n}
        if bad:
            say(f"  FOREIGN KEYS BROKEN: {bad}")
            raise SystemExit(1)
        say(
            f"  no orphans: all {len(found)} foreign keys of the loaded tables hold "
            f"({time.perf_counter() - started:.1f} s)"
        )


def vacuum_analyze() -> None:
    started = time.perf_counter()
    sql("VACUUM ANALYZE")
    say(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


def table_sizes() -> None:
    rows = sql(
        """
        SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid))
          FROM pg_stat_user_tables
         WHERE relname IN ('disputes_refundrequest', 'contracts_milestone', 'contracts_account',
                           'contracts_ledgertransaction', 'contracts_entry',
                           'disputes_timelineevent', 'accounts_notification')
         ORDER BY relname
        """
    )
    for name, live, size in rows:
        say(f"  {name:<30} {live:>10,} rows {size:>10}")


# --- Checks -------------------------------------------------------------------------------------


def check_ledger(when: str) -> None:
    from contracts.checks import CHECKS, run_checks

    started = time.perf_counter()
    problems = {name: found for name, found in run_checks().items() if found}
    took = time.perf_counter() - started
    if problems:
        for name, found in problems.items():
            say(f"  LEDGER CHECK FAILED {when}: {name}: {len(found)} problem(s), e.g. {found[0]}")
        raise SystemExit(1)
    say(f"  ledger consistent {when}: check_ledger's {len(CHECKS)} checks pass ({took:.1f} s)")


def check_outcome(*, expected: int, still_open: int) -> None:
    """Exactly the due rows expired, each with all its side effects."""
    from django.db.models import F

    from accounts.models import Notification
    from contracts.models import LedgerTransaction, Milestone
    from disputes.models import RefundRequest, TimelineEvent

    refunded = Notification.objects.filter(kind="refunded", created_at=NOW)
    counts = {
        "refund requests EXPIRED": RefundRequest.objects.filter(
            status="EXPIRED", closed_at=NOW
        ).count(),
        "refund requests still OPEN": RefundRequest.objects.filter(status="OPEN").count(),
        "milestones REFUNDED": Milestone.objects.filter(status="REFUNDED", closed_at=NOW).count(),
        "REFUND ledger transactions": LedgerTransaction.objects.filter(
            kind="REFUND", created_at=NOW, created_by=None
        ).count(),
        "REFUND_EXPIRED timeline events": TimelineEvent.objects.filter(
            kind="REFUND_EXPIRED", at=NOW, actor=None
        ).count(),
        "'refunded' notifications": refunded.count(),
        "  to their clients": refunded.filter(
            user__contracts_as_client__refund_requests__status="EXPIRED"
        )
        .distinct()
        .count(),
        "  to their freelancers": refunded.filter(
            user__contracts_as_freelancer__refund_requests__status="EXPIRED"
        )
        .distinct()
        .count(),
        "refund requests left due": RefundRequest.objects.filter(
            status="OPEN", response_due_at__lte=NOW
        ).count(),
    }
    want = {
        "refund requests EXPIRED": expected,
        "refund requests still OPEN": still_open,
        "milestones REFUNDED": expected,
        "REFUND ledger transactions": expected,
        "REFUND_EXPIRED timeline events": expected,
        "'refunded' notifications": 2 * expected,
        "  to their clients": expected,
        "  to their freelancers": expected,
        "refund requests left due": 0,
    }
    # Each REFUND transaction moves money out of its milestone's escrow to the contract's client.
    mismatched = (
        LedgerTransaction.objects.filter(kind="REFUND", created_at=NOW)
        .exclude(entries__account__owner=F("milestone__contract__client"))
        .exclude(entries__account=F("milestone__escrow_account"))
        .count()
    )
    counts["REFUNDs lacking escrow/client leg"] = mismatched
    want["REFUNDs lacking escrow/client leg"] = 0
    failed = False
    for name, value in counts.items():
        ok = value == want[name]
        failed |= not ok
        say(f"  {name:<34} {value:>9,}" + ("" if ok else f"   WRONG: expected {want[name]:,}"))
    if failed:
        raise SystemExit(1)


def enqueued_notifications() -> tuple[int, int]:
    """(messages, notification ids) on the in-memory broker's queues."""
    from kombu.transport.memory import Channel

    messages = ids = 0
    for queue in Channel.queues.values():
        for message in list(queue.queue):
            messages += 1
            body = message["body"]
            if message.get("properties", {}).get("body_encoding") == "base64":
                body = base64.b64decode(body)
            _args, kwargs, _embed = json.loads(body)
            ids += len(kwargs.get("notification_ids", []))
    return messages, ids


def reset_broker() -> None:
    from kombu.transport.memory import Channel

    for queue in Channel.queues.values():
        queue.queue.clear()


# --- The sweep ----------------------------------------------------------------------------------


def claim_sql(batch_size: int) -> str:
    """The SQL the expiry sweep's claim sends, captured from ``core.sweeps.claim`` itself."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from core import deadlines
    from disputes.models import RefundRequest

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        deadlines.claim(
            RefundRequest.objects.filter(status=RefundRequest.Status.OPEN),
            due_field="response_due_at",
            now=NOW,
            batch_size=batch_size,
        )
        transaction.set_rollback(True)
    (query,) = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    return query


def explain_claim(batch_size: int, *, title: str, show_sql: bool = True) -> None:
    from django.db import connection, transaction

    query = claim_sql(batch_size)
    if show_sql:
        say("  claim query (core.sweeps.claim, as sent):")
        say("    " + query)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)  # the rows it locked are not claimed
    say(f"  EXPLAIN (ANALYZE, BUFFERS), {title}:")
    for line in plan:
        say("    " + line)


def warm_up_broker() -> None:
    """Open the producer pool once, as a long-running worker has it open."""
    from accounts.tasks import deliver_notification_emails

    deliver_notification_emails.delay(notification_ids=[])
    reset_broker()


def backend_cpu_seconds(pid: int) -> float | None:
    """CPU time of the PostgreSQL backend ``pid``, when it runs on this machine."""
    try:
        with open(f"/proc/{pid}/comm") as comm:
            if not comm.read().startswith("postgres"):
                return None  # another machine (or PID namespace): not our backend
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Timing:
    wall: float
    python_cpu: float
    backend_cpu: float | None  # None when the server runs on another machine

    @property
    def cpu(self) -> float | None:
        return None if self.backend_cpu is None else self.python_cpu + self.backend_cpu


def timed_sweep(label: str) -> Timing:
    """Run the deadline engine once at NOW, as the beat task does; time it alone."""
    from django.conf import settings

    from core.deadlines import enforce_deadlines

    sql("CHECKPOINT")  # start from a clean buffer pool state, not the load's dirty pages
    reset_broker()
    backend = sql("SELECT pg_backend_pid()")[0][0]
    backend_before = backend_cpu_seconds(backend)
    python_before = time.process_time()
    started = time.perf_counter()
    counts = enforce_deadlines(now=NOW)
    elapsed = time.perf_counter() - started
    python = time.process_time() - python_before
    backend_after = backend_cpu_seconds(backend)
    backend_cpu = (
        None if backend_before is None or backend_after is None else backend_after - backend_before
    )
    handled = counts.pop(SWEEP, 0)
    others = {name: n for name, n in counts.items() if n}
    batches = -(-handled // settings.DEADLINE_SWEEP_BATCH_SIZE)
    say(
        f"  {label}: enforce_deadlines expired {handled:,} refund requests in {elapsed:.3f} s "
        f"= {handled / elapsed:,.0f}/s ({batches} batches of up to "
        f"{settings.DEADLINE_SWEEP_BATCH_SIZE}, {elapsed / max(batches, 1) * 1000:.0f} ms each)"
    )
    if others:
        say(f"  WRONG: other sweeps acted too: {others}")
        raise SystemExit(1)
    if handled != DUE:
        say(f"  WRONG: expected {DUE:,} expirations")
        raise SystemExit(1)
    if backend_cpu is not None:
        say(
            f"  CPU: this Python process {python:.2f} s + its PostgreSQL backend "
            f"{backend_cpu:.2f} s, in {elapsed:.2f} s wall (load average now "
            f"{os.getloadavg()[0]:.2f})"
        )
    messages, ids = enqueued_notifications()
    say(f"  e-mail tasks enqueued on commit: {messages} messages for {ids:,} notifications")
    if ids != 2 * DUE:
        say(f"  WRONG: expected {2 * DUE:,} notifications to e-mail")
        raise SystemExit(1)
    return Timing(wall=elapsed, python_cpu=python, backend_cpu=backend_cpu)


def run(label: str, server: Server, *, with_not_due: bool) -> Timing:
    from django.conf import settings

    heading(label)
    fresh_database(server)
    if with_not_due:
        load(not_due_batch(), unchecked=True)
    timings = []
    for repeat in range(REPEAT):
        if repeat:
            say(f"  -- again ({repeat + 1} of {REPEAT}): {DUE:,} more due refund requests")
        load(due_batch(f"due{repeat + 1}"))
        vacuum_analyze()
        if not repeat:
            table_sizes()
            check_ledger("before the sweep")
            explain_claim(
                settings.DEADLINE_SWEEP_BATCH_SIZE, title=f"the first claim, {DUE:,} rows due"
            )
        timings.append(timed_sweep(label.split(":")[0]))
        check_outcome(expected=DUE * (repeat + 1), still_open=NOT_DUE if with_not_due else 0)
        if with_not_due and not repeat:
            explain_claim(
                settings.DEADLINE_SWEEP_BATCH_SIZE,
                title="the claim that ends a sweep (nothing left due; the index still holds "
                "the entries of the rows just expired, until VACUUM)",
                show_sql=False,
            )
    check_ledger("after the sweep" + ("s" if REPEAT > 1 else ""))
    best = min(timings, key=lambda timing: timing.wall)
    if REPEAT > 1:
        say(
            f"  best of {REPEAT}: {best.wall:.3f} s (all: "
            + ", ".join(f"{t.wall:.3f}" for t in timings)
            + ")"
        )
    return best


def breakdown(server: Server) -> None:
    from bench.phases import instrumented_sweep

    heading(f"Breakdown: {DUE:,} due alone, with timers (BENCH_BREAKDOWN=1; not in the figures)")
    fresh_database(server)
    load(due_batch("due"))
    vacuum_analyze()
    sql("CHECKPOINT")
    for line in instrumented_sweep(now=NOW):
        say("  " + line)


def verdict(name: str, value: float, target: str, met: bool) -> None:
    say(f"{'target met' if met else 'TARGET MISSED'}: {name} {value:.2f} (target {target})")


def setup(server: Server, what: str) -> None:
    """The Setup heading every bench prints: the database, ``what`` it runs, and the machine."""
    from django.conf import settings

    heading("Setup")
    say(f"  database {server.host}:{server.port}/{server.database} (dropped and re-created)")
    say("  PostgreSQL " + server.admin("SHOW server_version")[0][0])
    say(f"  {what}")
    say(f"  Celery broker {settings.CELERY_BROKER_URL}; e-mail {settings.EMAIL_BACKEND}")
    say(
        f"  shared cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]} "
        f"{settings.CACHE_URL or '(the database table)'}"
    )
    say(
        f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
        f"{os.cpu_count()} CPUs (other work on the machine skews every figure below)"
    )


def main() -> int:
    server = Server(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL)
    configure_django(server)
    from django.conf import settings

    started = time.perf_counter()
    setup(
        server,
        f"DEADLINE_SWEEP_BATCH_SIZE = {settings.DEADLINE_SWEEP_BATCH_SIZE} (rows per sweep "
        f"transaction); now = {NOW:%Y-%m-%d %H:%M} UTC",
    )

    tps = pgbench_reference(server)
    warm_up_broker()
    alone = run(f"Run 1: {DUE:,} due refund requests alone", server, with_not_due=False)
    beside = run(f"Run 2: {DUE:,} due beside {NOT_DUE:,} not yet due", server, with_not_due=True)
    if os.environ.get("BENCH_BREAKDOWN"):
        breakdown(server)

    per_s = DUE / alone.wall
    ratio = per_s / tps
    size_ratio = beside.wall / alone.wall
    heading("Figures")
    say(
        f"  sweep: {DUE:,} expirations in {alone.wall:.3f} s alone, {beside.wall:.3f} s beside "
        f"{NOT_DUE:,} not yet due; pgbench {tps:,.0f} TPS"
    )
    if alone.cpu and beside.cpu:
        say(
            f"  CPU time (Python + backend), less sensitive to other load: {alone.cpu:.2f} s "
            f"alone, {beside.cpu:.2f} s beside: ratio {beside.cpu / alone.cpu:.2f}"
        )
    say(f"  the bench took {time.perf_counter() - started:.0f} s")
    verdict("sweep_vs_pgbench", ratio, f">= {SPEED_TARGET:.2f}", ratio >= SPEED_TARGET)
    verdict("size_ratio", size_ratio, f"<= {SIZE_TARGET:.2f}", size_ratio <= SIZE_TARGET)
    say(f"sweep_per_s: {per_s:.0f}")
    say(f"pgbench_tps: {tps:.0f}")
    say(f"sweep_vs_pgbench: {ratio:.2f}")
    say(f"size_ratio: {size_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
