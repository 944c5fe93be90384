"""The ledger's row per patient: what the clinic table reads of a patient alike for every
range (their first prescription's start, the pain of its first week, their last check-in),
kept by every write of their check-ins and days."""

from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from prescriptions import checkins, services
from prescriptions.adherence import adherence_report, ledger_rebuild, ledger_tick
from prescriptions.models import LedgerPatient
from tests.concurrency import at_once
from tests.factories import PatientFactory, knee_rocks
from tests.live_worker import restore_migration_data
from tests.prescriptions.adherence.oracle import oracle_report

START = date(2026, 3, 2)
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def row_of(patient) -> tuple:
    row = LedgerPatient.objects.get(patient=patient)
    return row.first_start, row.baseline_check_ins, row.baseline_pain_sum, row.last_check_in


def prescribe(patient, clinician, start=START, protocol=None, **extra):
    with time_machine.travel(NOW, tick=False):
        return services.prescription_create(
            patient=patient,
            clinician=clinician,
            protocol=protocol or knee_rocks(),
            start_date=start,
            **extra,
        )


def another_protocol():
    """A second protocol, so that a patient may follow two at once."""
    protocol = knee_rocks()
    protocol.pk, protocol.slug = None, "knee-rocks-evening"
    protocol.save()
    return protocol


def check_in(rx, day: int, pain: int, slot="bedtime"):
    """A check-in at 21:00 UTC on `day` March, recorded at NOW."""
    at = datetime(2026, 3, day, 21, tzinfo=UTC)
    with time_machine.travel(NOW, tick=False):
        return checkins.checkin_record(
            prescription=rx, slot=slot, performed_at=at, pain_before=pain
        )


@pytest.fixture
def patient(clinic_a):
    return PatientFactory(clinic=clinic_a, timezone="UTC")


@pytest.mark.django_db
def test_it_holds_the_first_weeks_pain_and_the_last_check_in(patient, clinician_a):
    rx = prescribe(patient, clinician_a)
    assert row_of(patient) == (START, 0, 0, None)

    check_in(rx, 3, pain=6)
    check_in(rx, 8, pain=4)  # the seventh date from the start: still the first week
    last = check_in(rx, 9, pain=1)  # the eighth: after it

    assert row_of(patient) == (START, 2, 10, last.performed_at)


@pytest.mark.django_db
def test_a_correction_and_a_withdrawal_move_it(patient, clinician_a):
    rx = prescribe(patient, clinician_a)
    first = check_in(rx, 3, pain=6)
    last = check_in(rx, 10, pain=2)

    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        checkins.checkin_withdraw(checkin=last, by=patient.user)
    assert row_of(patient) == (START, 1, 6, first.performed_at)

    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        checkins.checkin_correct(checkin=first, by=patient.user, changes={"pain_before": 3})
    assert row_of(patient) == (START, 1, 3, first.performed_at)


@pytest.mark.django_db
def test_the_first_start_is_that_of_the_first_prescription_that_ran(patient, clinician_a):
    rx = prescribe(patient, clinician_a, end_date=date(2026, 3, 31))
    # Moved to start later (before any check-in): its first week moves with it.
    with time_machine.travel(NOW, tick=False):
        services.prescription_update(prescription=rx, start_date=date(2026, 3, 5))
    check_in(rx, 5, pain=5)
    check_in(rx, 12, pain=8)  # its eighth date: after its first week
    assert row_of(patient)[:3] == (date(2026, 3, 5), 1, 5)

    # One still to come has not run: it is not the first.
    prescribe(patient, clinician_a, start=date(2026, 4, 1))
    assert row_of(patient)[0] == date(2026, 3, 5)


@pytest.mark.django_db
def test_it_holds_the_last_date_of_the_days(patient, clinician_a):
    # Written to the patient's today, then a day further as the tick writes the next one.
    prescribe(patient, clinician_a)
    assert LedgerPatient.objects.get(patient=patient).last_day == NOW.date()

    ledger_tick(now=NOW + timedelta(days=1))

    assert LedgerPatient.objects.get(patient=patient).last_day == NOW.date() + timedelta(days=1)


@pytest.mark.django_db
def test_a_rebuild_gives_the_row_that_was_kept(patient, clinician_a):
    rx = prescribe(patient, clinician_a)
    for day, pain in [(2, 7), (5, 5), (9, 3)]:
        check_in(rx, day, pain)
    kept = row_of(patient)
    LedgerPatient.objects.all().delete()

    with time_machine.travel(NOW, tick=False):
        ledger_rebuild()

    assert row_of(patient) == kept


@pytest.mark.django_db
def test_two_courses_at_once_are_summed_date_by_date(patient, clinician_a):
    # With one course each date has one ledger row, read as it is; with two, they share
    # dates, and the report sums each date's rows.
    first = prescribe(patient, clinician_a)
    check_in(first, 3, pain=6)
    check_in(first, 4, pain=5)
    second = prescribe(patient, clinician_a, protocol=another_protocol())
    check_in(second, 3, pain=2)
    assert LedgerPatient.objects.get(patient=patient).prescriptions == 2

    start, end = date(2026, 3, 1), date(2026, 3, 20)
    with time_machine.travel(NOW, tick=False):
        report = adherence_report(patient=patient, start=start, end=end)
        assert report == oracle_report(patient, start, end, NOW)
    # Each date once: 2 to 20 March (today), with sessions on the 3rd and the 4th.
    assert (report["active_days"], report["days_with_session"]) == (19, 2)


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; the race needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_check_ins_at_once_on_two_prescriptions_leave_both_counted(clinic_a, clinician_a):
    restore_migration_data()
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    # Two running side by side: their check-ins hold different prescriptions' rows.
    first = prescribe(patient, clinician_a)
    second = prescribe(patient, clinician_a, protocol=another_protocol())

    answers = at_once(partial(check_in, first, 3, 6), partial(check_in, second, 4, 2))

    assert [type(answer).__name__ for answer in answers] == ["CheckIn", "CheckIn"]
    assert row_of(patient) == (START, 2, 8, max(answer.performed_at for answer in answers))


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_that_has_patients_fills_their_rows(clinic_a, clinician_a):
    # From before the ledger kept a row per patient: every migration since runs on the
    # patients' history and gives each the row the ledger would have kept.
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    rx = prescribe(patient, clinician_a)
    check_in(rx, 3, pain=6)
    kept = sorted(LedgerPatient.objects.values_list())

    call_command("migrate", "prescriptions", "0012", verbosity=0)
    call_command("migrate", "prescriptions", verbosity=0)

    assert sorted(LedgerPatient.objects.values_list()) == kept
