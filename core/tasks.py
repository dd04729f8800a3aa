from celery import shared_task
from django.utils import timezone

from . import deadlines


@shared_task(name="core.tasks.enforce_deadlines", ignore_result=True)
def enforce_deadlines() -> dict[str, int]:
    """Run one deadline sweep (Celery beat schedules this every DEADLINE_SWEEP_INTERVAL)."""
    return deadlines.enforce_deadlines(now=timezone.now())
