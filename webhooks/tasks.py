"""The webhook outbox's tasks, on the ``webhooks`` queue, so a delivery never waits behind a
sweep or an e-mail (see ``webhooks.relay`` and ``core.outbox``)."""

from celery import shared_task
from django.utils import timezone

from core import outbox
from core.sweeps import sweep_run_record

from . import relay


@shared_task(name="webhooks.tasks.deliver", **outbox.TASK_OPTIONS)
def deliver(*, delivery_ids: list[int]) -> int:
    """Send the deliveries a change wrote, after it committed; return how many succeeded."""
    return outbox.deliver_now(relay.WEBHOOKS, ids=delivery_ids, now=timezone.now()).delivered


@shared_task(name="webhooks.tasks.relay", **outbox.TASK_OPTIONS)
def relay_due() -> dict[str, int]:
    """Build the data sweeps left out and send every due delivery (beat, every
    WEBHOOK_RELAY_INTERVAL)."""
    started = timezone.now()
    done = relay.relay_due(now=started)
    sweep_run_record(
        name="webhooks",
        started_at=started,
        finished_at=timezone.now(),
        handled=done["delivered"] + done["given_up"],
        failures=done["failed"],
    )
    return done
