"""manage.py seed_bulk: many patients for the benchmarks, with their ledger written."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from prescriptions.adherence import adherence_report, ledger_rebuild
from prescriptions.models import AdherenceDay, CheckIn, Prescription
from tests.prescriptions.adherence.test_ledger import kept_rows

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)


def test_it_makes_patients_checking_in_with_their_ledger_written():
    with time_machine.travel(NOW, tick=False):
        call_command(
            "seed_bulk",
            patients=3,
            days=4,
            zones="UTC,Asia/Kolkata",
            stdout=StringIO(),
            stderr=StringIO(),
        )
        rx = Prescription.objects.select_related("patient").order_by("id")
        assert rx.count() == 3
        assert {p.patient.timezone for p in rx} == {"UTC", "Asia/Kolkata"}
        # Every morning; bedtime skipped on days where (i + day) % 3 == 0.
        assert CheckIn.objects.filter(prescription=rx[0], slot="morning").count() == 4
        assert CheckIn.objects.filter(prescription=rx[0], slot="bedtime").count() == 2
        assert AdherenceDay.objects.filter(prescription=rx[0]).count() == 4
        report = adherence_report(patient=rx[0].patient, start=rx[0].start_date, end=NOW.date())
        assert (report["expected_sessions"], report["completed_sessions"]) == (8, 6)

        kept = kept_rows()
        ledger_rebuild()
        assert kept_rows() == kept


def test_it_refuses_a_size_below_one():
    with pytest.raises(CommandError):
        call_command("seed_bulk", patients=0, days=3, stdout=StringIO(), stderr=StringIO())
