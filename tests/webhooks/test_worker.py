"""Webhooks through a real Celery worker on the ``webhooks`` queue and the real broker."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.utils import timezone

from tests import kit
from webhooks.models import Delivery
from webhooks.tasks import relay_due

from .conftest import endpoint_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("redis"),
        reason="needs Redis as the broker (set CELERY_BROKER_URL=redis://...)",
    ),
]


def wait_for(condition, *, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def webhooks_worker():
    """A worker that serves only the ``webhooks`` queue."""
    with kit.real_worker(queues=["webhooks"]):
        yield


def test_a_committed_action_is_delivered_by_the_webhooks_worker(
    receiver, contract, freelancer, webhooks_worker
):
    endpoint_for(freelancer, receiver.url)

    kit.funded(contract)  # commits; its delivery is enqueued on the webhooks queue

    assert wait_for(lambda: receiver.types == ["milestone.funded"])
    assert wait_for(lambda: Delivery.objects.filter(delivered_at__isnull=False).count() == 1)


def test_the_relay_pass_runs_on_the_webhooks_queue_and_sends_what_was_left(
    receiver, contract, freelancer, webhooks_worker, monkeypatch
):
    from core import outbox
    from webhooks import relay

    monkeypatch.setattr(outbox, "enqueue", lambda kind, ids, countdown=None: False)  # lost
    endpoint_for(freelancer, receiver.url)
    kit.funded(contract, now=timezone.now() - relay.WEBHOOKS.grace())
    monkeypatch.undo()
    assert receiver.received == []

    relay_due.apply_async(queue="webhooks")

    assert wait_for(lambda: receiver.types == ["milestone.funded"])
