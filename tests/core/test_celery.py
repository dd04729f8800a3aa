"""The deadline sweep and the e-mails through a real Celery worker and the real broker."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Notification
from core.models import SweepRun
from core.tasks import enforce_deadlines
from disputes.models import RefundRequest
from tests import kit
from tests.kit import end_contract

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("redis"),
        reason="needs Redis as the broker (set CELERY_BROKER_URL=redis://...)",
    ),
]


def wait_for(condition, *, seconds: float = 20.0):
    """Poll until the worker (another thread) has done its part; the clock here is real."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def queues_to_ourselves():
    with kit.queues_to_ourselves():
        yield


@pytest.fixture
def worker():
    with kit.real_worker():
        yield


class TestTheWorker:
    def test_expires_an_overdue_request_and_e_mails_both_parties(self, contract, worker):
        request = end_contract(contract, now=timezone.now() - timedelta(days=8))

        enforce_deadlines.delay()

        assert wait_for(
            lambda: RefundRequest.objects.get(pk=request.pk).status == RefundRequest.Status.EXPIRED
        )
        refunded = Notification.objects.filter(kind="refunded")
        assert wait_for(lambda: refunded.count() == 2 and not refunded.filter(emailed_at=None))
        assert sorted(refunded.values_list("user__username", flat=True)) == sorted(
            [contract.client.username, contract.freelancer.username]
        )


def database_url() -> str | None:
    """The test database, as a URL another process can open (None for an in-memory one)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        return None
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class TestMakeWorkerOnAFreshClone:
    def test_starts_beat_and_enforces_a_due_deadline(self, contract, queues_to_ourselves, tmp_path):
        url = database_url()
        if url is None:
            pytest.skip("needs a database another process can open (set DATABASE_URL=postgres://)")
        request = end_contract(contract, now=timezone.now() - timedelta(days=8))
        var = tmp_path / "clone" / "var"  # no var/ folder yet, as on a fresh clone
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "VAR_DIR": str(var),
            # The default interval: beat sweeps as it starts, not a minute later.
            "DEADLINE_SWEEP_INTERVAL": "60s",
        }
        log = tmp_path / "worker.log"

        with open(log, "w") as output:
            # What `make worker` runs.
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat"]
                + ["--loglevel=INFO", "--concurrency=1"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                expired = wait_for(
                    lambda: (
                        RefundRequest.objects.get(pk=request.pk).status
                        == RefundRequest.Status.EXPIRED
                    ),
                    seconds=90,
                )
                told = Notification.objects.filter(kind="refunded")
                emailed = wait_for(lambda: told.count() == 2 and not told.filter(emailed_at=None))
            finally:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()

        text = log.read_text()
        assert expired, text
        assert emailed, text
        assert (var / "celerybeat-schedule").parent.is_dir()
        assert SweepRun.objects.filter(name="deadlines").exists()
        assert "FileNotFoundError" not in text
