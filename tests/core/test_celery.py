"""The deadline sweep and the e-mails through a real Celery worker and the real broker."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from accounts.models import Notification
from config import celery_app
from core.tasks import enforce_deadlines
from disputes.models import RefundRequest
from tests.kit import end_contract

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
def worker():
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        celery_app.conf.task_always_eager = True


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
