"""SQLite, the embedded default of ``make run``, where the web and the Celery worker both write.

The test database of the suite lives in memory, so these tests run the real settings in
subprocesses on a SQLite file of their own, whatever database the suite itself runs on.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config import sqlite_writers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_env(tmp_path) -> dict[str, str]:
    """The environment of ``make run`` on a fresh SQLite file and scratch folder."""
    for folder in ("queue", "processed", "control"):
        (tmp_path / "var" / "celery" / folder).mkdir(parents=True)
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
        "CELERY_BROKER_URL": "",
        "DJANGO_ENV": "",
        "LOG_LEVEL": "WARNING",
    }


def start(role: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.config.sqlite_writers", role],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_every_connection_waits_for_the_write_lock_in_wal_mode(sqlite_env):
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "print(*(c.execute(f'PRAGMA {p}').fetchone()[0] "
        "for p in ('journal_mode', 'synchronous', 'busy_timeout')), connection.transaction_mode)"
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=sqlite_env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # synchronous 1 is NORMAL: safe with WAL, and no disk flush on every commit.
    last = result.stdout.strip().splitlines()[-1]
    assert last.split() == ["wal", "1", "20000", "IMMEDIATE"], result.stderr


def test_the_web_and_the_worker_write_at_once_and_every_write_lands(sqlite_env, tmp_path):
    assert finish(start("setup", sqlite_env)) == {"contract": 1}
    worker, web = start("worker", sqlite_env), start("web", sqlite_env)
    for process in (worker, web):
        assert process.stdout.readline().strip() == "ready", process.stderr.read()

    for process in (worker, web):
        process.stdin.write("go\n")
        process.stdin.flush()
    did = {"worker": finish(worker), "web": finish(web)}

    assert did == {
        "worker": {"done": sqlite_writers.WORKER_WRITES, "errors": []},
        "web": {"done": sqlite_writers.THREADS * sqlite_writers.REQUESTS, "errors": []},
    }
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        counts = db.execute(
            "SELECT"
            " (SELECT count(*) FROM contracts_contract WHERE title LIKE 'web-%'),"
            " (SELECT count(*) FROM contracts_milestone WHERE title LIKE 'worker-%'),"
            " (SELECT count(*) FROM contracts_milestone WHERE status = 'RELEASED')"
        ).fetchone()
    assert counts == (
        sqlite_writers.THREADS * sqlite_writers.REQUESTS,
        sqlite_writers.WORKER_WRITES,
        sqlite_writers.DUE,
    )
