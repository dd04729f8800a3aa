from celery import shared_task
from django.utils import timezone

from . import deadlines
from .sweeps import sweep_run_record


@shared_task(name="core.tasks.enforce_deadlines", ignore_result=True)
def enforce_deadlines() -> dict[str, int]:
    """Run one deadline sweep (Celery beat schedules this every DEADLINE_SWEEP_INTERVAL)."""
    started = timezone.now()
    counts = deadlines.enforce_deadlines(now=started)
    sweep_run_record(
        name="deadlines",
        started_at=started,
        finished_at=timezone.now(),
        handled=sum(count for count in counts.values() if count > 0),
        failures=sum(1 for count in counts.values() if count < 0),
    )
    return counts
