"""/my/: the patient's own check-ins, at the local time where they were done, corrected or
withdrawn within 24 hours; minutes and a note in the web check-in form."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import AuditEntry
from prescriptions import checkins
from prescriptions.models import CheckIn, CheckInCorrection
from tests.conftest import client_for, signed_in
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2024, 6, 10, 13, 0, tzinfo=UTC)  # 09:00 in New York


@pytest.fixture
def rx(patient_a):
    return PrescriptionFactory(patient=patient_a, start_date=date(2024, 6, 1))


def record(rx, **session):
    return checkins.checkin_record(
        prescription=rx, performed_at=datetime.now(UTC), **{"pain_before": 5, **session}
    )


def correct_url(checkin):
    return f"/my/check-ins/{checkin.id}/"


def test_it_lists_check_ins_at_the_local_time_where_they_were_done(
    rx, patient_a, frozen_clock, django_capture_on_commit_callbacks
):
    checkin = record(rx, slot="morning", pain_after=2, duration_minutes=6, notes="Easy today")
    # Moved to Tokyo since: the check-in still reads the New York time it was done at.
    frozen_clock.move_to(NOW + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        moved = client_for(patient_a.user).patch("/api/v1/me/", {"timezone": "Asia/Tokyo"})
    assert moved.status_code == 200

    page = signed_in(patient_a.user).get("/my/").content.decode()

    assert "10 Jun 2024, 09:00 New York time" in page
    assert "Morning: pain 5 before, 2 after, 6 min" in page
    assert "Easy today" in page
    assert f'href="{correct_url(checkin)}"' in page


def test_it_offers_a_correction_only_within_24_hours(rx, patient_a, frozen_clock):
    old = record(rx, slot="morning")
    frozen_clock.move_to(NOW + timedelta(hours=25))

    page = signed_in(patient_a.user).get("/my/").content.decode()

    assert f'href="{correct_url(old)}"' not in page
    correction = signed_in(patient_a.user).get(correct_url(old)).content.decode()
    assert "only within 24 hours" in correction
    assert "Save the correction" not in correction


def test_it_shows_the_correction_form_filled_in(rx, patient_a):
    checkin = record(rx, slot="other", pain_after=3, notes="Wrong button")

    page = signed_in(patient_a.user).get(correct_url(checkin)).content.decode()

    assert '<option value="other" selected>' in page
    assert 'id="pain_before_5" checked' in page
    assert 'id="pain_after_3" checked' in page
    assert "Wrong button</textarea>" in page
    assert "Withdraw this check-in" in page
    assert "style=" not in page and "<script" not in page


def test_it_saves_a_correction_audited(rx, patient_a):
    checkin = record(rx, slot="other", pain_after=3)
    client = signed_in(patient_a.user)

    response = client.post(
        correct_url(checkin),
        {"slot": "morning", "pain_before": 4, "pain_after": 2, "duration_minutes": 7, "notes": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == "/my/#your-check-ins"
    stored = CheckIn.objects.get(id=checkin.id)
    assert (stored.slot, stored.pain_before, stored.pain_after, stored.duration_minutes) == (
        "morning",
        4,
        2,
        7,
    )
    assert CheckInCorrection.objects.get().by == patient_a.user
    assert AuditEntry.objects.get(path=correct_url(checkin)).action == "update"
    page = client.get("/my/").content.decode()
    assert "Your check-in is corrected." in page
    assert "(corrected)" in page


def test_it_refuses_a_correction_after_24_hours_with_a_clear_message(rx, patient_a, frozen_clock):
    checkin = record(rx, slot="other")
    frozen_clock.move_to(NOW + timedelta(hours=24, minutes=1))

    response = signed_in(patient_a.user).post(
        correct_url(checkin), {"slot": "morning", "pain_before": 5}
    )

    assert response.status_code == 400
    assert "can be corrected only within 24 hours" in response.content.decode()
    assert CheckIn.objects.get(id=checkin.id).slot == "other"


def test_it_names_the_field_of_a_bad_correction(rx, patient_a):
    checkin = record(rx, slot="other")

    response = signed_in(patient_a.user).post(
        correct_url(checkin), {"slot": "morning", "pain_before": 5, "duration_minutes": 90}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_duration_minutes_error"' in page and "from 1 to 60" in page


def test_it_withdraws_a_check_in(rx, patient_a):
    checkin = record(rx, slot="morning")
    client = signed_in(patient_a.user)

    response = client.post(f"/my/check-ins/{checkin.id}/withdraw/")

    assert response.status_code == 302
    assert not CheckIn.objects.filter(id=checkin.id).exists()
    assert CheckInCorrection.objects.get().kind == "withdrawn"
    assert "Your check-in is withdrawn" in client.get("/my/").content.decode()


def test_it_keeps_a_warning_sign_for_the_clinician(rx, patient_a):
    checkin = record(rx, slot="morning", red_flags=["fever"])
    client = signed_in(patient_a.user)

    page = client.get(correct_url(checkin)).content.decode()
    response = client.post(f"/my/check-ins/{checkin.id}/withdraw/")

    assert "Withdraw this check-in" not in page
    assert "stays as it is" in page
    assert response.status_code == 400
    assert "stays for your clinician" in response.content.decode()
    assert CheckIn.objects.filter(id=checkin.id).exists()


@pytest.mark.parametrize("method, suffix", [("get", ""), ("post", ""), ("post", "withdraw/")])
def test_it_keeps_another_patients_check_in_out(rx, other_patient, method, suffix):
    checkin = record(rx, slot="morning")

    response = getattr(signed_in(other_patient.user), method)(
        f"{correct_url(checkin)}{suffix}", {"slot": "other", "pain_before": 1}
    )

    assert response.status_code == 404
    assert CheckIn.objects.get(id=checkin.id).slot == "morning"


def test_the_web_form_takes_minutes_and_a_note(rx, patient_a):
    body = {
        "slot": "morning",
        "pain_before": 5,
        "duration_minutes": 8,
        "notes": "Stiff at first",
        "form_id": str(uuid.uuid4()),
    }

    response = signed_in(patient_a.user).post("/my/check-in/", body)

    assert response.status_code == 302
    checkin = CheckIn.objects.get()
    assert (checkin.duration_minutes, checkin.notes) == (8, "Stiff at first")


def test_the_web_form_names_bad_minutes(rx, patient_a):
    body = {"slot": "morning", "pain_before": 5, "duration_minutes": 0, "form_id": uuid.uuid4()}

    response = signed_in(patient_a.user).post("/my/check-in/", body)

    assert response.status_code == 400
    assert 'id="id_duration_minutes_error"' in response.content.decode()
    assert not CheckIn.objects.exists()


def page_queries(client):
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/my/").status_code == 200
    return len(captured)


def test_the_page_runs_the_same_queries_however_many_check_ins(rx, patient_a):
    client = signed_in(patient_a.user)
    CheckInFactory(prescription=rx, slot="morning", performed_at=NOW - timedelta(days=1))
    client.get("/my/")  # the ledger caught up once
    few = page_queries(client)
    for day in range(2, 20):
        for slot in ("morning", "bedtime", "night"):
            CheckInFactory(prescription=rx, slot=slot, performed_at=NOW - timedelta(days=day))

    assert page_queries(client) == few
