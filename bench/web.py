"""Benchmark the pages people and integrators read most, served as in production, and print
their figures.

    make bench        # after the sweep bench; or: .venv/bin/python -m bench.web

On its own database (``BENCH_WEB_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/disputes_bench_web``; dropped and re-created):

1. The demo data (``seed_demo``), and two more clients: one with 10 contracts, one with 1,000,
   each contract with one milestone to fund; then ``VACUUM ANALYZE``, as autovacuum would.
2. gunicorn serves the app (2 sync workers, persistent database connections), and ``wrk``
   (8 connections, ``BENCH_WEB_SECONDS`` each, default 10) requests each page with a logged-in
   session cookie: the demo client's Contract history and See Dispute, ``GET
   /api/v1/contracts/`` and ``GET /api/v1/disputes/{id}/``, and a trivial JSON view that only
   reads the session and the user (``/bench/bare/``), the baseline every page pays; then
   Contract history of the clients with 10 and 1,000 contracts. The shared cache is Redis, as in
   production (``BENCH_WEB_REDIS_URL``, default ``redis://127.0.0.1:6379/15``, cleared first; empty
   for the database cache).
3. It prints req/s and p99 for each, and ends with three lines for scripts to read:
   ``page_vs_bare`` (the lower req/s ratio of the two pages to the bare view), ``api_vs_bare``
   (the same for the two API calls) and ``history_size_ratio`` (time per request of Contract
   history with 1,000 contracts over 10).

Every response must be a 200: a redirect (to the login page) or an error stops the bench. The
script exits 0 whether or not the targets are met.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.sweep import Server, heading, say, vacuum_analyze, verdict

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/disputes_bench_web"
# The shared cache, as in production: sessions (cached_db), each user's roles and unread count,
# the API's rate-limit counters. BENCH_WEB_REDIS_URL="" measures the database cache instead.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
SECONDS = int(os.environ.get("BENCH_WEB_SECONDS", "10"))
CONNECTIONS = 8
WORKERS = 2
PAGE_TARGET, API_TARGET, HISTORY_TARGET = 0.35, 0.5, 1.2
STATIC_ROOT = Path(__file__).resolve().parents[1] / "var" / "bench-static"


def configure_django(server: Server) -> dict[str, str]:
    """Point Django (here and in gunicorn) at the bench database; return gunicorn's environment."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.web_settings",
        "DATABASE_URL": server.url,
        "DB_CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": "memory://",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1",
        # One session asks thousands of times a second: the API's rate limits would refuse it.
        "API_THROTTLE_USER": "100000000/min",
        "API_THROTTLE_ANON": "100000000/min",
        "STATIC_ROOT": str(STATIC_ROOT),
        "REDIS_URL": os.environ.get("BENCH_WEB_REDIS_URL", DEFAULT_REDIS_URL),
    }
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    import django

    django.setup()
    if env["REDIS_URL"]:
        from django.core.cache import cache

        cache.clear()  # its own Redis database: what an earlier run left would skew the first hits
    return {**os.environ, **env}


def seed() -> dict[str, object]:
    """The demo data and the two history clients; return what the bench requests."""
    from django.core.management import call_command
    from django.db import connections

    from accounts.models import User
    from disputes.models import Dispute

    connections.close_all()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    client = User.objects.get(username="client")
    dispute = Dispute.objects.filter(refund_request__contract__client=client).order_by("pk").first()
    if dispute is None:
        raise SystemExit("seed_demo made no dispute for the demo client.")
    freelancer = User.objects.get(username="freelancer")
    sizes = {size: history_client(size, freelancer) for size in (10, 1000)}
    return {"client": client, "dispute": dispute, "small": sizes[10], "large": sizes[1000]}


def history_client(size: int, freelancer):
    """A client with ``size`` contracts, each with one milestone to fund, written in bulk (the
    rows ``contract_create`` and ``milestone_create`` leave, without their timeline)."""
    from django.utils import timezone

    from accounts.models import User
    from contracts.models import Account, Contract, Milestone

    now = timezone.now() - timedelta(days=1)
    user = User.objects.create_user(username=f"bench-{size}", email=f"bench-{size}@example.com")
    contracts = Contract.objects.bulk_create(
        Contract(client=user, freelancer=freelancer, title=f"Job {n}", currency="USD",
                 created_at=now + timedelta(seconds=n))
        for n in range(size)
    )  # fmt: skip
    escrows = Account.objects.bulk_create(
        Account(kind=Account.Kind.ESCROW, currency="USD", created_at=now) for _ in contracts
    )
    Milestone.objects.bulk_create(
        Milestone(contract=contract, title="Build it", amount="100.00", escrow_account=escrow,
                  created_at=now)
        for contract, escrow in zip(contracts, escrows, strict=True)
    )  # fmt: skip
    return user


def session_cookie(user) -> str:
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    return browser.cookies["sessionid"].value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi",
        "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/login/", timeout=2)  # noqa: S310
            return process, base
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit("gunicorn did not answer within 60 s.")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Figure:
    name: str
    per_s: float
    p99_ms: float


def check(url: str, cookie: str) -> None:
    """One request first: it must be a 200 (not a redirect to the login page)."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200.")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def measure(wrk: str, name: str, url: str, cookie: str) -> Figure:
    check(url, cookie)
    header = f"Cookie: sessionid={cookie}"
    subprocess.run(  # warm up: every worker's connections and caches
        [wrk, "-t2", f"-c{CONNECTIONS}", "-d2s", "-H", header, url],
        capture_output=True,
        check=True,
    )
    output = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{SECONDS}s",
            "--timeout",
            "30s",
            "--latency",
            "-H",
            header,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        say(output)
        raise SystemExit(f"{name}: some requests failed (above).")
    per_s = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    figure = Figure(name, per_s, _ms(*p99.groups()))
    say(f"  {name:<44} {figure.per_s:>8,.0f} req/s   p99 {figure.p99_ms:>7.1f} ms")
    return figure


def find_wrk() -> str:
    wrk = shutil.which(os.environ.get("WRK", "wrk"))
    if wrk is None:
        raise SystemExit("wrk is not on PATH: apt-get install wrk (or set WRK to its path).")
    return wrk


def main() -> int:
    wrk = find_wrk()
    server = Server(os.environ.get("BENCH_WEB_DATABASE_URL") or DEFAULT_URL)
    started = time.perf_counter()
    heading("Web: setup")
    server.recreate(server.database)
    env = configure_django(server)
    from django.conf import settings

    say(f"  database {server.host}:{server.port}/{server.database} (dropped and re-created)")
    say(f"  gunicorn, {WORKERS} sync workers, DB_CONN_MAX_AGE 600; wrk, {CONNECTIONS} "
        f"connections, {SECONDS} s per page; sessions: {settings.SESSION_ENGINE}")  # fmt: skip
    say(f"  shared cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]} "
        f"{settings.CACHE_URL or '(the database table)'}")  # fmt: skip
    say(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
        f"{os.cpu_count()} CPUs (other work on the machine skews every figure below)")  # fmt: skip
    seeded = seed()
    vacuum_analyze()  # as autovacuum would: this machine's may be off
    from contracts.models import Contract

    client = seeded["client"]
    owned = Contract.objects.filter(client=client).count()
    cookies = {key: session_cookie(seeded[key]) for key in ("client", "small", "large")}
    dispute = seeded["dispute"].pk
    process, base = serve(env)
    try:
        heading("Web: req/s and p99 with a logged-in session")
        bare = measure(wrk, "trivial JSON view (session + user)", base + "/bench/bare/",
                       cookies["client"])  # fmt: skip
        pages = [
            measure(wrk, f"Contract history ({owned} contracts)", base + "/contracts/",
                    cookies["client"]),
            measure(wrk, "See Dispute", f"{base}/disputes/{dispute}/", cookies["client"]),
        ]  # fmt: skip
        api = [
            measure(wrk, "GET /api/v1/contracts/", base + "/api/v1/contracts/", cookies["client"]),
            measure(wrk, "GET /api/v1/disputes/{id}/", f"{base}/api/v1/disputes/{dispute}/",
                    cookies["client"]),
        ]  # fmt: skip
        small = measure(wrk, "Contract history (10 contracts)", base + "/contracts/",
                        cookies["small"])  # fmt: skip
        large = measure(wrk, "Contract history (1,000 contracts)", base + "/contracts/",
                        cookies["large"])  # fmt: skip
    finally:
        stop(process)

    page_ratio = min(p.per_s for p in pages) / bare.per_s
    api_ratio = min(a.per_s for a in api) / bare.per_s
    # Time per request, large over small.
    history_ratio = small.per_s / large.per_s if large.per_s else float("inf")
    heading("Web: figures")
    say(f"  the web bench took {time.perf_counter() - started:.0f} s")
    verdict("page_vs_bare", page_ratio, f">= {PAGE_TARGET:.2f}", page_ratio >= PAGE_TARGET)
    verdict("api_vs_bare", api_ratio, f">= {API_TARGET:.2f}", api_ratio >= API_TARGET)
    verdict("history_size_ratio", history_ratio, f"<= {HISTORY_TARGET:.2f}",
            history_ratio <= HISTORY_TARGET)  # fmt: skip
    say(f"page_vs_bare: {page_ratio:.2f}")
    say(f"api_vs_bare: {api_ratio:.2f}")
    say(f"history_size_ratio: {history_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
