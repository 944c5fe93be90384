"""On the day a prescription is written, the slots already gone by are not expected
(docs/definitions.md, "Expected session"): in the patient's report, the clinic's table, its
stored rows and the patient's own page alike."""

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from prescriptions import alerts, checkins, services
from prescriptions.adherence import clinic_store, ledger
from prescriptions.models import AdherenceDay, Alert, ClinicRow
from tests.conftest import client_for, signed_in
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory, knee_rocks
from tests.prescriptions.adherence.test_ledger import kept_rows

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 5, 12)


def local(day: date, hhmm: str, tz: ZoneInfo = NEW_YORK, fold: int = 0) -> datetime:
    wall = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz).replace(fold=fold)
    return wall.astimezone(UTC)


def prescribe(patient, clinician, *, at: datetime, start: date, slots) -> object:
    """Written through the service at `at`, as a clinician would."""
    with time_machine.travel(at, tick=False):
        return services.prescription_create(
            patient=patient,
            clinician=clinician,
            protocol=knee_rocks(),
            start_date=start,
            slots=[{"kind": kind, "time": time.fromisoformat(t)} for kind, t in slots],
        )


def api_report(user, patient, now: datetime, **params) -> dict:
    with time_machine.travel(now, tick=False):
        response = client_for(user).get(f"/api/v1/patients/{patient.id}/adherence/", params)
    assert response.status_code == 200
    return response.json()


def table_row(user, patient, now: datetime) -> dict:
    with time_machine.travel(now, tick=False):
        body = client_for(user).get("/api/v1/adherence/").json()
    return next(row for row in body["results"] if row["patient"] == patient.id)


def figures(row: dict) -> tuple:
    return row["expected_sessions"], row["completed_sessions"], row["adherence_pct"]


@pytest.fixture
def ada(patient_a, clinician_a):
    """Prescribed at 13:03 on 12 May in New York, a 07:30 morning and a 22:30 bedtime."""
    slots = [("morning", "07:30"), ("bedtime", "22:30")]
    prescribe(patient_a, clinician_a, at=local(TODAY, "13:03"), start=TODAY, slots=slots)
    return patient_a


def test_a_slot_gone_by_when_it_was_written_is_not_expected_in_the_report(clinician_a, ada):
    report = api_report(clinician_a, ada, local(TODAY, "13:05"))

    assert figures(report) == (0, 0, None)
    assert report["by_day"][-1] == {
        "date": "2026-05-12",
        "expected": 0,
        "completed": 0,
        "extra": 0,
        "pain_before_mean": None,
    }
    assert report["active_days"] == 1


def test_the_slots_still_ahead_that_day_are_expected_as_they_fall_due(clinician_a, ada):
    assert figures(api_report(clinician_a, ada, local(TODAY, "22:31"))) == (1, 0, 0.0)
    # The next morning is a day like any other.
    next_morning = local(TODAY + timedelta(days=1), "07:31")
    assert figures(api_report(clinician_a, ada, next_morning)) == (2, 0, 0.0)


def test_a_morning_check_in_that_first_afternoon_is_extra(clinician_a, ada):
    rx = ada.prescriptions.get()
    with time_machine.travel(local(TODAY, "13:10"), tick=False):
        checkins.checkin_record(
            prescription=rx, slot="morning", performed_at=local(TODAY, "13:10"), pain_before=4
        )

    report = api_report(clinician_a, ada, local(TODAY, "13:15"))

    assert figures(report) == (0, 0, None)
    assert report["extra_sessions"] == 1


def test_the_clinic_table_agrees_computed_and_stored(clinician_a, clinic_a, ada):
    now = local(TODAY, "13:05")
    computed = table_row(clinician_a, ada, now)
    assert figures(computed) == (0, 0, None)

    with time_machine.travel(now, tick=False):
        assert clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id) == 1
    stored = ClinicRow.objects.get(patient=ada)
    assert (stored.expected_sessions, stored.completed_sessions, stored.adherence_tenths) == (
        0,
        0,
        None,
    )
    assert table_row(clinician_a, ada, now) == computed


def test_the_patients_first_screen_plans_nothing_gone_by(ada):
    with time_machine.travel(local(TODAY, "13:05"), tick=False):
        page = signed_in(ada.user).get("/my/").content.decode()

    assert "0 of 0 planned sessions done" in page
    assert "0 of 1 planned" not in page


def test_a_prescription_dated_back_still_expects_its_earlier_days_in_full(clinician_a, patient_a):
    slots = [("morning", "07:30"), ("bedtime", "22:30")]
    start = TODAY - timedelta(days=2)
    prescribe(patient_a, clinician_a, at=local(TODAY, "13:03"), start=start, slots=slots)

    report = api_report(clinician_a, patient_a, local(TODAY, "13:05"), **{"from": start})

    assert [d["expected"] for d in report["by_day"]] == [2, 2, 0]
    assert figures(report) == (4, 0, 0.0)
    assert figures(table_row(clinician_a, patient_a, local(TODAY, "13:05"))) == (4, 0, 0.0)


def test_a_prescription_written_ahead_of_its_start_expects_its_whole_first_day(
    clinician_a, patient_a
):
    slots = [("morning", "07:30"), ("bedtime", "22:30")]
    written = local(TODAY - timedelta(days=1), "13:03")
    prescribe(patient_a, clinician_a, at=written, start=TODAY, slots=slots)

    assert figures(api_report(clinician_a, patient_a, local(TODAY, "07:31"))) == (1, 0, 0.0)


def test_the_rule_holds_for_a_prescription_made_without_the_services(clinician_a, patient_a):
    """Written at 13:03 with its start a fortnight back (the factory, fixtures, old data)."""
    PrescriptionFactory(
        patient=patient_a,
        start_date=TODAY - timedelta(days=14),
        slots=[("morning", "07:30"), ("bedtime", "22:30")],
        created_at=local(TODAY, "13:03"),
    )

    report = api_report(clinician_a, patient_a, local(TODAY, "13:05"))

    assert report["by_day"][-1]["expected"] == 0
    assert report["expected_sessions"] == 14 * 2


def test_low_adherence_does_not_count_what_was_never_asked_for(clinician_a, patient_a):
    """Written at 22:45, after both slots; the two mornings since done, the bedtimes not:
    2 of 4 over the last full week, not under half (2 of 6 counted the first evening)."""
    slots = [("morning", "07:00"), ("bedtime", "22:30")]
    rx = prescribe(patient_a, clinician_a, at=local(TODAY, "22:45"), start=TODAY, slots=slots)
    for offset in (1, 2):
        morning = local(TODAY + timedelta(days=offset), "07:10")
        with time_machine.travel(morning, tick=False):
            CheckInFactory(prescription=rx, slot="morning", performed_at=morning)

    raised = alerts.evaluate_alerts(now=local(TODAY + timedelta(days=3), "09:00"))

    assert [a.kind for a in raised] == []
    assert not Alert.objects.filter(patient=patient_a, kind="low_adherence").exists()


# --- Clock changes: the slot's instant, not its wall-clock reading, is what had passed ----


@pytest.mark.parametrize(
    ("zone", "day", "written", "slots", "expected"),
    [
        # New York springs forward at 02:00 on 8 March: 02:30 does not exist and is read as
        # 02:30 EST (07:30Z). Written at 03:10 EDT (07:10Z), it is still ahead: expected.
        ("America/New_York", date(2026, 3, 8), ("03:10", 0), ["02:30", "21:30"], 2),
        # Written at 03:40 EDT (07:40Z): 02:30 had gone by.
        ("America/New_York", date(2026, 3, 8), ("03:40", 0), ["02:30", "21:30"], 1),
        # London falls back at 02:00 BST on 25 October: 01:30 happens twice and its session
        # falls due the first time (00:30Z). Written at the second 01:10 (01:10Z), although
        # the clock reads earlier than 01:30, that session had gone by.
        ("Europe/London", date(2026, 10, 25), ("01:10", 1), ["01:30", "21:30"], 1),
        # Written at the first 01:10 (00:10Z): still ahead.
        ("Europe/London", date(2026, 10, 25), ("01:10", 0), ["01:30", "21:30"], 2),
    ],
)
def test_it_reads_the_slots_instant_across_clock_changes(
    clinician_a, clinic_a, zone, day, written, slots, expected
):
    tz = ZoneInfo(zone)
    patient = PatientFactory(clinic=clinic_a, timezone=zone)
    morning, bedtime = slots
    prescribe(
        patient,
        clinician_a,
        at=local(day, written[0], tz, fold=written[1]),
        start=day,
        slots=[("morning", morning), ("bedtime", bedtime)],
    )
    end_of_day = local(day, "23:59", tz)

    report = api_report(clinician_a, patient, end_of_day)

    assert report["expected_sessions"] == expected
    assert table_row(clinician_a, patient, end_of_day)["expected_sessions"] == expected
    with time_machine.travel(end_of_day, tick=False):
        clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id)
    assert ClinicRow.objects.get(patient=patient).expected_sessions == expected


def test_a_rebuild_gives_what_was_kept(clinician_a, ada):
    rx = ada.prescriptions.get()
    with time_machine.travel(local(TODAY + timedelta(days=1), "09:00"), tick=False):
        ledger.ledger_tick()
        kept = kept_rows()
        call_command("rebuild_ledger", stdout=StringIO(), stderr=StringIO())

    assert kept_rows() == kept
    first = AdherenceDay.objects.get(prescription=rx, local_date=TODAY)
    assert first.morning_due_at is None
    assert first.bedtime_due_at == local(TODAY, "22:30")
