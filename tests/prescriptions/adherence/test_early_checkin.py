"""A check-in made before its slot's time, on the slot's date, waits for that session: not
extra while the session is still ahead, and completing it once it falls due
(docs/definitions.md, "Completed session"). In the patient's report, the clinic's table,
its stored rows and the patient's own page alike."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from prescriptions import services
from prescriptions.adherence import clinic_store, current_streak_days
from prescriptions.models import ClinicRow
from tests.conftest import client_for, signed_in
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 5, 12)


def local(hhmm: str, day: date = TODAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=NEW_YORK).astimezone(UTC)


def post_check_in(patient, rx, slot: str, hhmm: str):
    """Through the API, at the very time the patient did it."""
    performed_at = datetime.combine(TODAY, time.fromisoformat(hhmm), tzinfo=NEW_YORK)
    with time_machine.travel(performed_at, tick=False):
        response = client_for(patient.user).post(
            "/api/v1/check-ins/",
            {
                "prescription": rx.id,
                "slot": slot,
                "performed_at": performed_at.isoformat(),
                "pain_before": 4,
                "heat_used": slot == "bedtime",
            },
        )
    assert response.status_code == 201, response.content
    return response.json()


def api_report(user, patient, now: datetime) -> dict:
    with time_machine.travel(now, tick=False):
        response = client_for(user).get(f"/api/v1/patients/{patient.id}/adherence/")
    assert response.status_code == 200
    return response.json()


def today_of(report: dict) -> tuple:
    day = report["by_day"][-1]
    assert day["date"] == TODAY.isoformat()
    return day["expected"], day["completed"], day["extra"]


def table_row(user, patient, now: datetime) -> dict:
    with time_machine.travel(now, tick=False):
        body = client_for(user).get("/api/v1/adherence/").json()
    return next(row for row in body["results"] if row["patient"] == patient.id)


def totals(row: dict) -> tuple:
    return row["expected_sessions"], row["completed_sessions"], row["extra_sessions"]


@pytest.fixture
def rx(patient_a):
    """From today, 07:00 and a 22:30 bedtime with heat first (its reminder at 22:20)."""
    return PrescriptionFactory(
        patient=patient_a,
        start_date=TODAY,
        heat_prep=True,
        slots=[("morning", "07:00"), ("bedtime", "22:30")],
    )


@pytest.fixture
def early_bedtime(rx, patient_a):
    """Morning done; bedtime checked in at 21:50, forty minutes before its time."""
    post_check_in(patient_a, rx, "morning", "07:05")
    post_check_in(patient_a, rx, "bedtime", "21:50")
    return rx


def test_it_is_not_extra_while_its_session_is_still_ahead(clinician_a, patient_a, early_bedtime):
    report = api_report(clinician_a, patient_a, local("21:55"))

    assert today_of(report) == (1, 1, 0)
    assert (report["completed_sessions"], report["extra_sessions"]) == (1, 0)


def test_it_completes_the_session_when_it_falls_due(clinician_a, patient_a, early_bedtime):
    assert today_of(api_report(clinician_a, patient_a, local("22:29"))) == (1, 1, 0)

    report = api_report(clinician_a, patient_a, local("22:30"))

    assert today_of(report) == (2, 2, 0)
    assert report["adherence_pct"] == 100.0


def test_the_streak_counts_the_day_done_ahead(clinician_a, patient_a, early_bedtime):
    assert api_report(clinician_a, patient_a, local("21:55"))["current_streak_days"] == 1
    with time_machine.travel(local("21:55"), tick=False):
        assert current_streak_days(patient=patient_a) == 1


def test_a_second_one_for_the_same_slot_is_extra_at_once(clinician_a, patient_a, early_bedtime):
    post_check_in(patient_a, early_bedtime, "bedtime", "22:00")

    assert today_of(api_report(clinician_a, patient_a, local("22:05"))) == (1, 1, 1)
    assert today_of(api_report(clinician_a, patient_a, local("22:31"))) == (2, 2, 1)


def test_it_is_extra_once_a_pause_means_the_session_never_falls_due(
    clinician_a, patient_a, early_bedtime
):
    with time_machine.travel(local("22:10"), tick=False):
        services.prescription_status_change(prescription=early_bedtime, to="paused")

    assert today_of(api_report(clinician_a, patient_a, local("22:15"))) == (1, 1, 1)
    assert today_of(api_report(clinician_a, patient_a, local("23:00"))) == (1, 1, 1)


def test_the_clinic_table_agrees_computed_and_stored(
    clinician_a, clinic_a, patient_a, early_bedtime
):
    before, after = local("21:55"), local("22:31")
    assert totals(table_row(clinician_a, patient_a, before)) == (1, 1, 0)
    with time_machine.travel(before, tick=False):
        assert clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id) == 1
    stored = ClinicRow.objects.get(patient=patient_a)
    assert (stored.completed_sessions, stored.extra_sessions) == (1, 0)
    assert totals(table_row(clinician_a, patient_a, before)) == (1, 1, 0)

    # The stored row stops holding when the bedtime session falls due.
    assert stored.fresh_until == local("22:30")
    assert totals(table_row(clinician_a, patient_a, after)) == (2, 2, 0)
    with time_machine.travel(after, tick=False):
        assert clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id) == 1
    assert ClinicRow.objects.get(patient=patient_a).extra_sessions == 0
    assert totals(table_row(clinician_a, patient_a, after)) == (2, 2, 0)


def test_the_patients_page_shows_no_extra_session(patient_a, early_bedtime):
    client = signed_in(patient_a.user)
    with time_machine.travel(local("21:55"), tick=False):
        page = client.get("/my/").content.decode()
    # Not "1 of 1 planned sessions done, plus 1 extra."
    assert "1 of 1 planned sessions done." in page

    with time_machine.travel(local("22:31"), tick=False):
        page = client.get("/my/").content.decode()
    assert "2 of 2 planned sessions done." in page


def test_a_morning_done_before_its_time_waits_for_it_too(clinician_a, patient_a, rx):
    post_check_in(patient_a, rx, "morning", "06:40")

    assert today_of(api_report(clinician_a, patient_a, local("06:45"))) == (0, 0, 0)
    assert today_of(api_report(clinician_a, patient_a, local("07:00"))) == (1, 1, 0)


def test_a_check_in_for_a_later_date_than_its_session_is_not_early(clinician_a, patient_a, rx):
    """After midnight a bedtime session counts for the evening before, whose session has
    gone by: it completes that one, nothing waits."""
    with time_machine.travel(local("00:30", TODAY + timedelta(days=1)), tick=False):
        performed_at = local("00:20", TODAY + timedelta(days=1)).astimezone(NEW_YORK)
        client_for(patient_a.user).post(
            "/api/v1/check-ins/",
            {
                "prescription": rx.id,
                "slot": "bedtime",
                "performed_at": performed_at.isoformat(),
                "pain_before": 4,
            },
        )

    report = api_report(clinician_a, patient_a, local("00:40", TODAY + timedelta(days=1)))
    assert [(d["date"], d["completed"], d["extra"]) for d in report["by_day"][-2:]] == [
        ("2026-05-12", 1, 0),
        ("2026-05-13", 0, 0),
    ]
