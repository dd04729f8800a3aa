"""The relay's tasks. They run on the ``webhooks`` queue, so a delivery never waits behind a
sweep or an e-mail: the relay enqueues them there (``webhooks.relay.enqueue``) and beat sends the
relay's pass there (``CELERY_BEAT_SCHEDULE``). Both acknowledge late and are re-queued when
their worker is lost; a delivery claimed by a lost worker is due again when its lease ends, so
the relay's pass sends it."""

from celery import shared_task
from django.utils import timezone

from . import relay

QUEUE = "webhooks"
OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="webhooks.tasks.deliver", ignore_result=True, **OPTIONS)
def deliver(*, delivery_ids: list[int]) -> int:
    """Send the deliveries ``delivery_ids`` that are due; return how many were attempted."""
    return relay.send(delivery_ids)


@shared_task(name="webhooks.tasks.relay", ignore_result=True, **OPTIONS)
def relay_due() -> dict[str, int]:
    """Build the data sweeps left out and enqueue every due delivery (beat, every
    WEBHOOK_RELAY_INTERVAL)."""
    return relay.relay_due(now=timezone.now())
