"""The adherence ledger: history stays as it was, and a rebuild gives what was kept."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.core.management import call_command

from patients.models import ReminderPreference
from prescriptions import checkins, services
from prescriptions.adherence import adherence_report, ledger
from prescriptions.models import AdherenceDay, LedgerPatient, Prescription
from tests.conftest import client_for
from tests.factories import PatientFactory, knee_rocks
from tests.prescriptions.reminders_support import tick as reminders_tick

# London in June is UTC+1: 07:00 local is 06:00Z, 22:00 local is 21:00Z.
START = date(2026, 6, 1)
NOW = datetime(2026, 6, 8, 12, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def london(clinic_a):
    return PatientFactory(clinic=clinic_a, timezone="Europe/London")


@pytest.fixture
def rx(london, clinician_a):
    with time_machine.travel(at(1, 0), tick=False):
        return services.prescription_create(
            patient=london,
            clinician=clinician_a,
            protocol=knee_rocks(),
            start_date=START,
            slots=[{"kind": "morning", "time": time(7)}, {"kind": "bedtime", "time": time(22)}],
        )


def check_in(rx, slot: str, performed_at: datetime):
    with time_machine.travel(performed_at, tick=False):
        return checkins.checkin_record(
            prescription=rx, slot=slot, performed_at=performed_at, pain_before=4
        )


def report(patient, now=NOW, start=START, end=date(2026, 6, 8)):
    with time_machine.travel(now, tick=False):
        return adherence_report(patient=patient, start=start, end=end)


def kept_rows():
    return sorted(
        AdherenceDay.objects.values_list(
            "prescription_id",
            "local_date",
            "timezone",
            "active",
            "morning_due_at",
            "morning_time",
            "bedtime_due_at",
            "bedtime_time",
            "check_ins",
            "morning_check_ins",
            "bedtime_check_ins",
            "night_check_ins",
            "pain_before_sum",
            "pain_rises",
        )
    )


def kept_patient_rows():
    return sorted(LedgerPatient.objects.values_list())


def test_it_keeps_past_bedtime_sessions_when_the_bedtime_slot_is_removed(rx, london):
    # 1 to 7 June: 14 sessions; 8 June morning: 15 by noon.
    assert report(london)["expected_sessions"] == 15

    with time_machine.travel(at(8, 12), tick=False):
        services.prescription_update(prescription=rx, slots=[{"kind": "morning", "time": time(7)}])

    assert report(london)["expected_sessions"] == 15  # before: 8, every bedtime gone
    # From the change on, mornings only.
    later = report(london, now=at(10, 12), end=date(2026, 6, 10))
    assert later["expected_sessions"] == 15 + 2


def test_it_keeps_past_days_in_the_zone_they_happened_in(
    rx, london, clinician_a, django_capture_on_commit_callbacks
):
    check_in(rx, "morning", at(7, 6, 5))  # 07:05 in London
    before = report(london)

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client_for(clinician_a).patch(
            f"/api/v1/patients/{london.id}/", {"timezone": "Asia/Tokyo"}
        )
    assert response.status_code == 200

    after = report(london)
    # Tokyo is 8 hours ahead: recomputed in Tokyo, 8 June's bedtime (22:00 JST = 13:00Z)
    # would not be due at noon, and past mornings would move; as it happened, nothing moves.
    assert after["by_day"] == before["by_day"]
    assert AdherenceDay.objects.get(local_date=date(2026, 6, 7)).timezone == "Europe/London"
    # The next day follows Tokyo: its morning (22:00Z on the 8th) is due by 23:00Z.
    tokyo_day = report(london, now=at(8, 23), end=date(2026, 6, 9))["by_day"][-1]
    assert (tokyo_day["date"], tokyo_day["expected"]) == (date(2026, 6, 9), 1)


def test_it_rewrites_the_days_after_a_pause_recorded_in_the_past(rx, london, clinician_a):
    assert report(london)["expected_sessions"] == 15

    with time_machine.travel(NOW, tick=False):
        services.prescription_status_change(
            prescription=rx, to=Prescription.Status.PAUSED, effective=at(5, 12), by=clinician_a
        )

    paused = report(london)
    # 1 to 4 June: 8; 5 June: the morning only; nothing since.
    assert paused["expected_sessions"] == 9
    assert [d["expected"] for d in paused["by_day"]] == [2, 2, 2, 2, 1, 0, 0, 0]
    assert paused["active_days"] == 5


def test_it_expects_a_session_whose_reminder_was_skipped(rx, london):
    ReminderPreference.objects.update_or_create(patient=london, defaults={"channel": "none"})
    with time_machine.travel(at(8, 6, 1), tick=False):
        reminders_tick()

    assert rx.reminders.get(local_date=date(2026, 6, 8), slot="morning").status == "skipped"
    day = report(london, now=at(8, 6, 1))["by_day"][-1]
    assert (day["date"], day["expected"], day["completed"]) == (date(2026, 6, 8), 1, 0)


def test_it_counts_the_days_the_tick_never_wrote(rx, london):
    # No tick ran since 1 June: the report writes what fell due on its way.
    assert Prescription.objects.get(id=rx.id).ledger_until == at(1, 23)

    assert report(london)["expected_sessions"] == 15
    assert Prescription.objects.get(id=rx.id).ledger_until == at(8, 23)


def test_it_writes_the_day_that_began_on_the_tick(rx, london):
    with time_machine.travel(at(1, 23, 1), tick=False):  # 00:01 on 2 June in London
        reminders_tick()

    day = AdherenceDay.objects.get(prescription=rx, local_date=date(2026, 6, 2))
    assert (day.morning_due_at, day.bedtime_due_at) == (at(2, 6), at(2, 21))
    assert (day.morning_time, day.timezone, day.active) == (time(7), "Europe/London", True)


def test_it_completes_a_session_with_the_check_in_of_its_slot_and_date(rx, london):
    check_in(rx, "bedtime", at(3, 23, 30))  # 00:30 on 4 June: counts for 3 June
    check_in(rx, "night", at(4, 2))

    days = {d["date"]: d for d in report(london)["by_day"]}
    assert (days[date(2026, 6, 3)]["completed"], days[date(2026, 6, 3)]["extra"]) == (1, 0)
    assert (days[date(2026, 6, 4)]["completed"], days[date(2026, 6, 4)]["extra"]) == (0, 1)


def test_it_rebuilds_what_it_kept(rx, london, clinician_a, django_capture_on_commit_callbacks):
    check_in(rx, "morning", at(2, 6, 10))
    with time_machine.travel(at(3, 10), tick=False):
        services.prescription_update(
            prescription=rx, slots=[{"kind": "bedtime", "time": time(21, 30)}]
        )
    with (
        time_machine.travel(at(4, 10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client_for(clinician_a).patch(
            f"/api/v1/patients/{london.id}/", {"timezone": "America/New_York"}
        )
    with time_machine.travel(at(6, 10), tick=False):
        services.prescription_status_change(
            prescription=rx, to=Prescription.Status.PAUSED, effective=at(5, 1), by=clinician_a
        )
    check_in(rx, "bedtime", at(6, 11))
    report(london)  # writes up to today
    kept = kept_rows()

    with time_machine.travel(NOW, tick=False):
        call_command("rebuild_ledger", stdout=None)

    assert kept_rows() == kept


def test_it_rebuilds_one_prescription_without_touching_the_others(rx, clinic_a, clinician_a):
    other = PatientFactory(clinic=clinic_a)
    with time_machine.travel(at(1, 0), tick=False):
        services.prescription_create(
            patient=other, clinician=clinician_a, protocol=knee_rocks(), start_date=START
        )
    AdherenceDay.objects.filter(prescription=rx).delete()
    untouched = AdherenceDay.objects.exclude(prescription=rx).count()

    with time_machine.travel(NOW, tick=False):
        assert ledger.ledger_rebuild(prescription_ids=[rx.id]) == 1

    assert AdherenceDay.objects.filter(prescription=rx).count() == 8  # 1 to 8 June
    assert AdherenceDay.objects.exclude(prescription=rx).count() == untouched
