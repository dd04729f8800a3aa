"""The e-mail outbox's tasks, on the ``email`` queue (see ``accounts.outbox``)."""

from celery import shared_task
from django.utils import timezone

from core import outbox
from core.sweeps import sweep_run_record

from .outbox import EMAILS


@shared_task(name="accounts.tasks.deliver_notification_emails", **outbox.TASK_OPTIONS)
def deliver_notification_emails(*, notification_ids: list[int]) -> int:
    """E-mail the notifications a change made, after it committed; return how many were sent."""
    return outbox.deliver_now(EMAILS, ids=notification_ids, now=timezone.now()).delivered


@shared_task(name="accounts.tasks.relay_notification_emails", **outbox.TASK_OPTIONS)
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
