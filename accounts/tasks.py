"""The e-mail outbox's tasks, on the ``email`` queue (see ``accounts.outbox``)."""

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from core import outbox
from core.sweeps import sweep_run_record

from .outbox import EMAILS

# A delivery is acknowledged only once it finished, and taken again when its worker is lost;
# the rows it already sent are no longer owed, so a second run sends nothing twice.
DELIVERY = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name="accounts.tasks.deliver_notification_emails", **DELIVERY)
def deliver_notification_emails(*, notification_ids: list[int]) -> int:
    """E-mail the notifications a change made, after it committed; return how many were sent."""
    return outbox.deliver_now(EMAILS, ids=notification_ids, now=timezone.now()).delivered


@shared_task(name="accounts.tasks.relay_notification_emails", **DELIVERY)
def relay_notification_emails() -> int:
    """Send every e-mail still owed after its grace period (beat runs this every minute)."""
    started = timezone.now()
    done = outbox.redeliver(EMAILS, now=started)
    sweep_run_record(
        name="emails",
        started_at=started,
        finished_at=timezone.now(),
        handled=done.delivered + done.given_up + done.skipped,
        failures=done.failed + done.given_up + done.unreachable,
    )
    return done.delivered
