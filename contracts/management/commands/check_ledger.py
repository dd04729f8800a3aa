from django.core.management.base import BaseCommand, CommandError

from contracts.checks import run_checks


class Command(BaseCommand):
    help = "Verify every invariant of the ledger; exit non-zero naming the offending rows."

    def handle(self, *args, **options):
        failures = 0
        for name, problems in run_checks().items():
            if problems:
                failures += len(problems)
                self.stderr.write(self.style.ERROR(f"FAIL {name}:"))
                for problem in problems:
                    self.stderr.write(f"  - {problem}")
            else:
                self.stdout.write(self.style.SUCCESS(f"ok   {name}"))
        if failures:
            raise CommandError(f"The ledger breaks {failures} invariant(s); see above.")
        self.stdout.write("The ledger is consistent.")
