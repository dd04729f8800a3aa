from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core import deadlines
from core.models import StuckDeadline
from core.sweeps import sweep_run_record


class Command(BaseCommand):
    help = "Run the deadline sweep once: the same code the Celery beat task runs every minute."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, batch_size=None, **options):
        started = timezone.now()
        counts = deadlines.enforce_deadlines(now=started, batch_size=batch_size)
        failed = [name for name, count in counts.items() if count < 0]
        sweep_run_record(
            name="deadlines",
            started_at=started,
            finished_at=timezone.now(),
            handled=sum(count for count in counts.values() if count > 0),
            failures=len(failed),
        )
        for name, count in counts.items():
            self.stdout.write(f"{name}: {'FAILED (see the log)' if count < 0 else count}")
        self.stdout.write(f"Handled {sum(c for c in counts.values() if c > 0)} due row(s).")
        stuck = StuckDeadline.objects.filter(resolved_at__isnull=True).count()
        if stuck:
            self.stdout.write(
                f"{stuck} stuck deadline(s) wait for staff: the admin's “Stuck deadlines”."
            )
        if failed:
            raise CommandError(f"These sweeps failed: {', '.join(failed)}.")
