"""Benchmark each deadline sweep that moves a case on, and two sweep processes on one backlog.

    make bench        # or: .venv/bin/python -m bench.kinds

On its own database (``BENCH_KINDS_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/disputes_bench_kinds``; its name must contain "bench", since it
is dropped, re-created and migrated for each part):

1. The reference: ``pgbench -c 1 -j 1 -T 10`` (TPC-B, scale 1), as in :mod:`bench.sweep`, into
   ``pgbench_ref_kinds`` on the same server.
2. Each sweep kind alone, on a fresh database: ``BENCH_KIND_ROWS`` (default 2,000) rows at the
   stage the kind acts on, built through the services as people would (row i's steps all at
   ``T + i`` seconds, a transaction per 50 rows whose events are written as a sweep writes
   them, their data left to the webhook relay), then VACUUM ANALYZE and only that kind's sweep
   (``core.deadlines.sweep``, the function ``enforce_deadlines`` runs for it) at the moment the
   last row is one hour overdue, timed alone:

   * ``auto_release``: submitted milestones are released to the freelancer;
   * ``refund_request_response``: open refund requests expire, refunded to the client;
   * ``client_response``: disputes the client did not answer are paid out (disputed amount to
     the freelancer, the rest back);
   * ``resolution_response``: proposed resolutions (half of them accepted by the freelancer)
     expire; a Notice of Non-Resolution opens the arbitration window;
   * ``arbitration_window``: windows close; a third nobody paid for (refunded), a third only
     the freelancer paid for, a third only the client (the amount and the fee to the payer);
   * ``evidence_request``: the arbitrator's requests for evidence close.

   rows/s = rows / seconds; the target is 1.5 × pgbench's TPS. Before and after each sweep the
   ledger must pass ``manage.py check_ledger``'s checks, and after it every due row must have
   been handled once, with its money where the kind sends it (the status and outcome counts,
   the ledger transactions it wrote, what is left in escrow), and nothing left due.
3. Two sweepers: ``BENCH_WORKERS_DUE`` (default 10,000) due refund requests, bulk-loaded by
   :mod:`bench.load` as :mod:`bench.sweep` loads them; the expiry sweep in one OS process (its own
   Django and database connection, started and connected before the clock starts), then, on a
   fresh identical backlog, in two at once. The claim's ``FOR UPDATE SKIP LOCKED`` splits the
   rows between them: each row must have been expired exactly once (one REFUND transaction,
   event and pair of notifications each, none twice) and the two counts must add up.
   speedup = t(one) / t(two), the wall time from the start signal until both are done; target
   1.5 on two cores. Each is run ``BENCH_REPEAT`` (default 2) times, the fastest kept.

The script exits 0 whether or not the targets are met. It prints a table (kind, rows, seconds,
rows/s, ratio to pgbench, target met or not), then lines for scripts to read: one
``sweep_kind_<kind>_vs_pgbench: <ratio>`` per kind, ``pgbench_tps`` and
``sweep_two_workers_speedup: <x>``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.sweep import (
    NOW,
    REPEAT,
    SPEED_TARGET,
    SWEEP,
    Server,
    backend_cpu_seconds,
    check_ledger,
    check_outcome,
    configure_django,
    fresh_database,
    heading,
    load,
    pgbench_reference,
    reset_broker,
    say,
    setup,
    sql,
    vacuum_analyze,
    verdict,
    warm_up_broker,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/disputes_bench_kinds"
URL_VARIABLE = "BENCH_KINDS_DATABASE_URL"
PGBENCH_DATABASE = "pgbench_ref_kinds"
ROWS = max(1, int(os.environ.get("BENCH_KIND_ROWS", "2000")))
WORKERS_DUE = max(2, int(os.environ.get("BENCH_WORKERS_DUE", "10000")))
WORKERS_TARGET = 1.5
# Rows built per transaction: fewer commits, and each still passes the deferred ledger checks.
CHUNK = 50
# Every backlog is built from this moment on (row i at T + i seconds) ...
T = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# ... and swept when its last row is this much overdue.
OVERDUE = timedelta(hours=1)
EVIDENCE_DUE_IN = timedelta(days=3)
ESCROWED, PAID, DISPUTED = "500.00", "200.00", "250.00"  # so R = 300 asked back
WORKER_FLAG = "--sweep-worker"


# --- Building a backlog through the services ----------------------------------------------------


@dataclass
class Staff:
    agent: object
    arbitrator: object


def staff() -> Staff:
    """One mediation agent and one arbitrator, as ``grant_role`` makes them."""
    from django.contrib.auth.models import Group

    from accounts.models import Role, User

    made = {}
    for role, name in ((Role.MEDIATION_AGENT, "agent"), (Role.ARBITRATOR, "arbitrator")):
        user = User.objects.create(
            username=f"bench-{name}", email=f"bench-{name}@example.com", is_staff=True
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        made[name] = user
    return Staff(**made)


def parties(count: int) -> list[tuple]:
    """``count`` (client, freelancer) pairs, new users (no usable password: none logs in)."""
    from accounts.models import User

    users = User.objects.bulk_create(
        User(
            username=f"bench-{role}-{i}",
            email=f"bench-{role}-{i}@example.com",
            password="!bench",
        )
        for i in range(count)
        for role in ("client", "freelancer")
    )
    return list(zip(users[::2], users[1::2], strict=True))


def milestone(client, freelancer, i: int, now: datetime):
    """A contract between the two with one milestone of ESCROWED, funded."""
    from contracts import services as contracts

    contract = contracts.contract_create(
        client=client, freelancer=freelancer, title=f"Bench contract {i}", currency="USD", now=now
    )
    funded = contracts.milestone_create(
        contract=contract, actor=client, title="Milestone", amount=ESCROWED, now=now
    )
    contracts.milestone_fund(milestone=funded, actor=client, now=now)
    return contract, funded


def build_submitted(i: int, client, freelancer, crew: Staff, now: datetime) -> None:
    from contracts import services as contracts

    _, funded = milestone(client, freelancer, i, now)
    contracts.milestone_submit(
        milestone=funded, actor=freelancer, message="Here is the work.", now=now
    )


def build_refund_request(i: int, client, freelancer, crew: Staff, now: datetime):
    from disputes import services as disputes

    contract, funded = milestone(client, freelancer, i, now)
    (request,) = disputes.contract_end(
        contract=contract, actor=client, payments={funded.pk: PAID}, now=now
    )
    return request


def build_filed(i: int, client, freelancer, crew: Staff, now: datetime):
    from disputes import services as disputes

    request = build_refund_request(i, client, freelancer, crew, now)
    dispute = disputes.dispute_start(
        refund_request=request,
        actor=freelancer,
        feedback_rating=2,
        feedback_comment="Stopped answering after the second delivery.",
        reason="NON_PAYMENT",
        description="The milestone asked for five pages; all five were delivered on time.",
        amount=DISPUTED,
        now=now,
    )
    return disputes.dispute_submit(dispute=dispute, actor=freelancer, now=now)


def build_proposed(i: int, client, freelancer, crew: Staff, now: datetime):
    """A 150/150 resolution; the freelancer accepted it on odd rows."""
    from disputes import services as disputes
    from mediation import services as mediation

    dispute = build_filed(i, client, freelancer, crew, now)
    disputes.dispute_decline(
        dispute=dispute, actor=client, reason="The work was incomplete.", now=now
    )
    mediation.resolution_propose(
        dispute=dispute,
        agent=crew.agent,
        to_freelancer="150.00",
        to_client="150.00",
        rationale="Half each.",
        now=now,
    )
    if i % 2:
        mediation.resolution_answer(dispute=dispute, actor=freelancer, accept=True, now=now)
    return dispute


WINDOW_PAYER = ("", "freelancer", "client")  # by i % 3: who paid the arbitration fee


def build_window(i: int, client, freelancer, crew: Staff, now: datetime):
    """The client rejected the resolution; then nobody, the freelancer or the client paid."""
    from arbitration import services as arbitration
    from mediation import services as mediation

    dispute = build_proposed(i, client, freelancer, crew, now)
    mediation.resolution_answer(dispute=dispute, actor=client, accept=False, now=now)
    payer = WINDOW_PAYER[i % 3]
    if payer:
        actor = freelancer if payer == "freelancer" else client
        arbitration.arbitration_fee_pay(dispute=dispute, actor=actor, now=now)
    return dispute


def build_evidence_request(i: int, client, freelancer, crew: Staff, now: datetime):
    """Both paid: the case is open, and the arbitrator asks one party (in turn) for evidence."""
    from arbitration import services as arbitration
    from mediation import services as mediation

    dispute = build_proposed(i, client, freelancer, crew, now)
    mediation.resolution_answer(dispute=dispute, actor=client, accept=False, now=now)
    for party in (freelancer, client):
        arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=now)
    return arbitration.evidence_request_create(
        dispute=dispute,
        arbitrator=crew.arbitrator,
        party=("freelancer", "client")[i % 2],
        message="Send the delivery e-mails.",
        due_at=now + EVIDENCE_DUE_IN,
        now=now,
    )


def build(kind: Kind) -> None:
    """ROWS rows at the stage ``kind`` acts on, each through the services at T + i seconds."""
    from django.db import transaction

    from core.sweeps import events_batched

    started = time.perf_counter()
    crew = staff()
    pairs = parties(ROWS)
    for first in range(0, ROWS, CHUNK):
        with transaction.atomic(), events_batched():
            for i in range(first, min(first + CHUNK, ROWS)):
                kind.build(i, *pairs[i], crew, T + timedelta(seconds=i))
    reset_broker()  # the e-mails the building enqueued: not the sweep's
    say(
        f"  built {ROWS:,} rows through the services in {time.perf_counter() - started:.1f} s "
        f"({kind.stage})"
    )


# --- What each sweep must have done ---------------------------------------------------------------


def escrow_left() -> Decimal:
    from django.db.models import Sum

    from contracts.models import Account

    total = Account.objects.filter(kind=Account.Kind.ESCROW).aggregate(s=Sum("balance"))["s"]
    return total or Decimal("0.00")


def ledger_written(at: datetime) -> dict[str, int]:
    from django.db.models import Count

    from contracts.models import LedgerTransaction

    rows = (
        LedgerTransaction.objects.filter(created_at=at)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    return dict(rows)


def counted(model, **filters) -> int:
    return model._default_manager.filter(**filters).count()


def by_row(count: Callable[[int], bool]) -> int:
    """How many of the ROWS rows ``count(i)`` holds for."""
    return sum(1 for i in range(ROWS) if count(i))


def expect_auto_release(at: datetime) -> dict[str, tuple[int | Decimal, int | Decimal]]:
    from contracts.models import Milestone

    return {
        "milestones RELEASED": (counted(Milestone, status="RELEASED"), ROWS),
        "milestones still SUBMITTED": (counted(Milestone, status="SUBMITTED"), 0),
        "RELEASE transactions written": (ledger_written(at).get("RELEASE", 0), ROWS),
        "transactions written, all kinds": (sum(ledger_written(at).values()), ROWS),
        "left in escrow": (escrow_left(), Decimal("0.00")),
    }


def expect_refund(at: datetime) -> dict[str, tuple[int | Decimal, int | Decimal]]:
    from contracts.models import Milestone
    from disputes.models import RefundRequest

    return {
        "refund requests EXPIRED": (counted(RefundRequest, status="EXPIRED", closed_at=at), ROWS),
        "refund requests still OPEN": (counted(RefundRequest, status="OPEN"), 0),
        "milestones REFUNDED": (counted(Milestone, status="REFUNDED"), ROWS),
        "REFUND transactions written": (ledger_written(at).get("REFUND", 0), ROWS),
        "left in escrow": (escrow_left(), Decimal("0.00")),
    }


def expect_client_response(at: datetime) -> dict[str, tuple[int | Decimal, int | Decimal]]:
    from contracts.models import Milestone
    from disputes.models import Dispute

    return {
        "disputes CLOSED, CLIENT_SILENT": (
            counted(Dispute, status="CLOSED", outcome="CLIENT_SILENT", closed_at=at),
            ROWS,
        ),
        "disputes still AWAITING_CLIENT": (counted(Dispute, status="AWAITING_CLIENT"), 0),
        "milestones SETTLED": (counted(Milestone, status="SETTLED"), ROWS),
        "SETTLEMENT transactions written": (ledger_written(at).get("SETTLEMENT", 0), ROWS),
        "transactions written, all kinds": (sum(ledger_written(at).values()), ROWS),
        "left in escrow": (escrow_left(), Decimal("0.00")),
    }


def expect_resolution(at: datetime) -> dict[str, tuple[int | Decimal, int | Decimal]]:
    from disputes.models import Dispute
    from mediation.models import Resolution

    return {
        "resolutions EXPIRED": (counted(Resolution, status="EXPIRED", closed_at=at), ROWS),
        "resolutions still PROPOSED": (counted(Resolution, status="PROPOSED"), 0),
        "disputes in ARBITRATION_WINDOW": (counted(Dispute, status="ARBITRATION_WINDOW"), ROWS),
        "transactions written": (sum(ledger_written(at).values()), 0),
        "left in escrow (untouched)": (
            escrow_left(),
            ROWS * Decimal(ESCROWED) - ROWS * Decimal(PAID),
        ),
    }


def expect_window(at: datetime) -> dict[str, tuple[int | Decimal, int | Decimal]]:
    from arbitration.models import ArbitrationFee
    from disputes.models import Dispute

    def closed(outcome: str) -> int:
        return counted(Dispute, status="CLOSED", outcome=outcome, closed_at=at)

    paid_by = [WINDOW_PAYER[i % 3] for i in range(ROWS)]
    return {
        "closed, NO_ARBITRATION": (closed("NO_ARBITRATION"), paid_by.count("")),
        "closed, ONLY_FREELANCER_PAID": (
            closed("ONLY_FREELANCER_PAID"),
            paid_by.count("freelancer"),
        ),
        "closed, ONLY_CLIENT_PAID": (closed("ONLY_CLIENT_PAID"), paid_by.count("client")),
        "disputes still in ARBITRATION_WINDOW": (counted(Dispute, status="ARBITRATION_WINDOW"), 0),
        "fees REFUNDED to their payer": (
            counted(ArbitrationFee, status="REFUNDED"),
            ROWS - paid_by.count(""),
        ),
        "fees still PAID": (counted(ArbitrationFee, status="PAID"), 0),
        "left in escrow": (escrow_left(), Decimal("0.00")),
    }


def expect_evidence(at: datetime) -> dict[str, tuple[int | Decimal, int | Decimal]]:
    from arbitration.models import EvidenceRequest
    from disputes.models import Dispute

    return {
        "evidence requests CLOSED": (
            counted(EvidenceRequest, status="CLOSED", closed_at=at),
            ROWS,
        ),
        "evidence requests still OPEN": (counted(EvidenceRequest, status="OPEN"), 0),
        "disputes still IN_ARBITRATION": (counted(Dispute, status="IN_ARBITRATION"), ROWS),
        "transactions written": (sum(ledger_written(at).values()), 0),
    }


@dataclass(frozen=True)
class Kind:
    name: str  # the declared kind (core.deadlines), as in sweep_kind_<name>_vs_pgbench
    model: str  # the declaring model, "app_label.ModelName"
    stage: str
    build: Callable[..., object]
    expect: Callable[[datetime], dict]

    @property
    def declared(self):
        from core import deadlines

        return next(
            k
            for k in deadlines.declared()
            if k.name == self.name and k.model.lower() == self.model.lower() and k.sweep
        )


KINDS = (
    Kind(
        "auto_release",
        "contracts.Milestone",
        "submitted milestones",
        build_submitted,
        expect_auto_release,
    ),
    Kind(
        "refund_request_response",
        "disputes.RefundRequest",
        "open refund requests",
        build_refund_request,
        expect_refund,
    ),
    Kind(
        "client_response",
        "disputes.Dispute",
        "disputes awaiting the client",
        build_filed,
        expect_client_response,
    ),
    Kind(
        "resolution_response",
        "disputes.Dispute",
        "proposed resolutions",
        build_proposed,
        expect_resolution,
    ),
    Kind(
        "arbitration_window",
        "disputes.Dispute",
        "open arbitration windows",
        build_window,
        expect_window,
    ),
    Kind(
        "evidence_request",
        "arbitration.EvidenceRequest",
        "open evidence requests",
        build_evidence_request,
        expect_evidence,
    ),
)


def check(checks: dict[str, tuple]) -> None:
    failed = False
    for name, (value, want) in checks.items():
        ok = value == want
        failed |= not ok
        shown = f"{value:>12,}" if isinstance(value, int) else f"{value:>12,.2f}"
        say(f"  {name:<38}{shown}" + ("" if ok else f"   WRONG: expected {want}"))
    if failed:
        raise SystemExit(1)


# --- One kind ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    kind: str
    rows: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.rows / self.seconds


def run_kind(kind: Kind, server: Server) -> Result:
    from django.conf import settings
    from django.db.models import Max, Min

    from core import deadlines

    declared = kind.declared
    heading(f"{declared.sweep}: {ROWS:,} {kind.stage}")
    fresh_database(server)
    build(kind)
    due = declared.queryset().aggregate(first=Min(declared.due_field), last=Max(declared.due_field))
    if due["last"] is None or declared.queryset().count() != ROWS:
        say(f"  WRONG: expected {ROWS:,} rows in {sorted(declared.statuses)} with a due time")
        raise SystemExit(1)
    at = due["last"] + OVERDUE
    say(
        f"  due from {due['first']:%Y-%m-%d %H:%M:%S} to {due['last']:%Y-%m-%d %H:%M:%S} UTC; "
        f"swept at {at:%Y-%m-%d %H:%M:%S} UTC"
    )
    vacuum_analyze()
    check_ledger("before the sweep")
    sql("CHECKPOINT")
    reset_broker()
    backend = sql("SELECT pg_backend_pid()")[0][0]
    backend_before = backend_cpu_seconds(backend)
    python_before = time.process_time()
    started = time.perf_counter()
    handled = deadlines.sweep(declared.sweep, now=at)
    elapsed = time.perf_counter() - started
    python = time.process_time() - python_before
    backend_after = backend_cpu_seconds(backend)
    batches = -(-handled // settings.DEADLINE_SWEEP_BATCH_SIZE)
    say(
        f"  {declared.sweep} handled {handled:,} rows in {elapsed:.3f} s = "
        f"{handled / elapsed:,.0f}/s ({batches} batches of up to "
        f"{settings.DEADLINE_SWEEP_BATCH_SIZE})"
    )
    if backend_before is not None and backend_after is not None:
        say(
            f"  CPU: this Python process {python:.2f} s + its PostgreSQL backend "
            f"{backend_after - backend_before:.2f} s (load average now {os.getloadavg()[0]:.2f})"
        )
    if handled != ROWS:
        say(f"  WRONG: expected {ROWS:,} rows handled")
        raise SystemExit(1)
    written = ledger_written(at)
    say(
        "  ledger transactions written: "
        + (", ".join(f"{name} {n:,}" for name, n in written.items()) or "none")
    )
    check(kind.expect(at))
    left = declared.queryset().filter(**{f"{declared.due_field}__lte": at}).count()
    check({"rows of the kind left due": (left, 0)})
    check_ledger("after the sweep")
    return Result(kind=kind.name, rows=handled, seconds=elapsed)


# --- Two sweep processes on one backlog ---------------------------------------------------------


def worker() -> int:
    """One sweep process: connect, warm up, say "ready", sweep at NOW on "go", report."""
    server = Server(os.environ.get(URL_VARIABLE) or DEFAULT_URL, variable=URL_VARIABLE)
    configure_django(server)
    from django.db import connection

    from core import deadlines

    connection.ensure_connection()
    warm_up_broker()
    # A sweep a month early finds nothing due: the imports, the connection and the claim's
    # plan are then ready before the clock starts, as in a long-running worker.
    deadlines.sweep(SWEEP, now=NOW - timedelta(days=30))
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    handled = deadlines.sweep(SWEEP, now=NOW)
    finished = time.monotonic()
    print(json.dumps({"handled": handled, "started": started, "finished": finished}), flush=True)
    return 0


def sweep_processes(server: Server, count: int) -> tuple[float, list[int]]:
    """Run ``count`` sweep processes at once on the backlog; return the wall time from the start
    signal to the last one done (CLOCK_MONOTONIC is the machine's), and their counts."""
    env = dict(os.environ, **{URL_VARIABLE: server.url})
    root = Path(__file__).resolve().parent.parent
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.kinds", WORKER_FLAG],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        for _ in range(count)
    ]
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("a sweep process did not start")
    go = time.monotonic()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    reports = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode:
            raise SystemExit(f"a sweep process failed (exit {process.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(report["finished"] for report in reports) - go
    late = max(report["started"] for report in reports) - go
    counts = [report["handled"] for report in reports]
    say(
        f"  {count} process{'es' if count > 1 else ''}: {sum(counts):,} expired in {wall:.3f} s "
        f"= {sum(counts) / wall:,.0f}/s (each: {', '.join(f'{n:,}' for n in counts)}; "
        f"the last started {late * 1000:.0f} ms after the signal; load average "
        f"{os.getloadavg()[0]:.2f})"
    )
    return wall, counts


def check_exactly_once(counts: list[int]) -> None:
    from django.db.models import Count

    from contracts.models import LedgerTransaction
    from disputes.models import TimelineEvent

    check_outcome(expected=WORKERS_DUE, still_open=0)
    doubled_refunds = (
        LedgerTransaction.objects.filter(kind="REFUND")
        .values("milestone")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    doubled_events = (
        TimelineEvent.objects.filter(kind="REFUND_EXPIRED")
        .values("refund_request")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    check(
        {
            "expired, as the processes counted": (sum(counts), WORKERS_DUE),
            "milestones refunded twice": (doubled_refunds, 0),
            "refund requests expired twice": (doubled_events, 0),
        }
    )


def workers_round(server: Server, count: int, repeat: int) -> float:
    from django.conf import settings

    from bench.load import Batch

    say(f"  -- {count} process{'es' if count > 1 else ''} ({repeat + 1} of {REPEAT})")
    fresh_database(server)
    load(
        Batch(
            prefix=f"due{count}",
            cases=WORKERS_DUE,
            contracts=WORKERS_DUE,
            first_end=NOW - settings.REFUND_REQUEST_RESPONSE_PERIOD - timedelta(hours=1, seconds=1),
            end_step=timedelta(seconds=-1),
        )
    )
    vacuum_analyze()
    if not repeat and count == 1:
        check_ledger("before the sweep")
    sql("CHECKPOINT")
    wall, counts = sweep_processes(server, count)
    if count > 1 and min(counts) == 0:
        say("  note: one process found nothing left to claim")
    check_exactly_once(counts)
    check_ledger("after the sweep")
    return wall


def two_workers(server: Server) -> float:
    heading(f"Two sweep processes on one backlog of {WORKERS_DUE:,} due refund requests")
    one, two = [], []
    for repeat in range(REPEAT):
        one.append(workers_round(server, 1, repeat))
        two.append(workers_round(server, 2, repeat))
    speedup = min(one) / min(two)
    say(
        f"  best of {REPEAT}: one process {min(one):.3f} s, two {min(two):.3f} s: "
        f"speedup {speedup:.2f}"
    )
    return speedup


# --- Main ----------------------------------------------------------------------------------------


def main() -> int:
    server = Server(os.environ.get(URL_VARIABLE) or DEFAULT_URL, variable=URL_VARIABLE)
    configure_django(server)
    from django.conf import settings

    started = time.perf_counter()
    setup(
        server,
        f"{ROWS:,} rows per kind (BENCH_KIND_ROWS); DEADLINE_SWEEP_BATCH_SIZE = "
        f"{settings.DEADLINE_SWEEP_BATCH_SIZE}; {WORKERS_DUE:,} refund requests for the two "
        "sweep processes (BENCH_WORKERS_DUE)",
    )

    tps = pgbench_reference(server, PGBENCH_DATABASE)
    warm_up_broker()
    results = [run_kind(kind, server) for kind in KINDS]
    speedup = two_workers(server)

    heading("Figures")
    say(f"  pgbench {tps:,.0f} TPS; target for each kind: {SPEED_TARGET:.1f} x that")
    say(f"  {'kind':<26}{'rows':>7}{'seconds':>9}{'rows/s':>9}{'vs pgbench':>12}  target")
    for result in results:
        ratio = result.per_s / tps
        say(
            f"  {result.kind:<26}{result.rows:>7,}{result.seconds:>9.3f}{result.per_s:>9,.0f}"
            f"{ratio:>12.3f}  {'met' if ratio >= SPEED_TARGET else 'MISSED'}"
        )
    say(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    say(f"  the bench took {time.perf_counter() - started:.0f} s")
    for result in results:
        ratio = result.per_s / tps
        verdict(
            f"sweep_kind_{result.kind}_vs_pgbench",
            ratio,
            f">= {SPEED_TARGET:.2f}",
            ratio >= SPEED_TARGET,
        )
    verdict(
        "sweep_two_workers_speedup",
        speedup,
        f">= {WORKERS_TARGET:.2f}",
        speedup >= WORKERS_TARGET,
    )
    for result in results:
        say(f"sweep_kind_{result.kind}_vs_pgbench: {result.per_s / tps:.2f}")
    say(f"pgbench_tps: {tps:.0f}")
    say(f"sweep_two_workers_speedup: {speedup:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(worker() if WORKER_FLAG in sys.argv[1:] else main())
