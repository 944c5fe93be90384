"""Writes the adherence ledger again from its sources: prescriptions, their schedule and
status histories, and check-ins. Safe to run at any time; reports read the same numbers
before and after unless the ledger had drifted from its sources."""

from django.core.management.base import BaseCommand

from prescriptions.adherence import ledger_rebuild
from prescriptions.models import Prescription, ledger_analyze


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument(
            "--prescription", type=int, action="append", help="only this one (repeatable)"
        )

    def handle(self, *args, prescription=None, **options):
        total = len(prescription) if prescription else Prescription.objects.count()
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            self.stderr.write(f"\r{done}/{total} prescriptions", ending="")

        count = ledger_rebuild(prescription_ids=prescription, progress=progress)
        self.stderr.write("")
        # A rewritten ledger has no statistics until autovacuum gets to it: the reports
        # would be planned over guesses meanwhile.
        ledger_analyze()
        self.stdout.write(f"Rebuilt the ledger of {count} prescriptions.")
