from django.core.management.base import BaseCommand
from django.utils import timezone

from core import deadlines


class Command(BaseCommand):
    help = "Run the deadline sweep once: the same code the Celery beat task runs every minute."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, batch_size=None, **options):
        counts = deadlines.enforce_deadlines(now=timezone.now(), batch_size=batch_size)
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count}")
        self.stdout.write(f"Handled {sum(counts.values())} due row(s).")
