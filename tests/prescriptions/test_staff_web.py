"""The clinic team's web page at /staff/: session sign-in, adherence table, CSV, alerts."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from prescriptions.api.adherence import CSV_COLUMNS
from prescriptions.models import Alert
from tests.conftest import client_for
from tests.factories import PASSWORD, CheckInFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alert_a(patient_a):
    return Alert.objects.create(
        patient=patient_a, kind="low_adherence", details={"message": "2 of 14 sessions done."}
    )


def test_it_sends_visitors_without_a_session_to_the_sign_in_page():
    response = Client().get("/staff/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/staff/"


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a"])
def test_it_signs_in_the_clinic_team_and_returns_them_where_they_were_going(request, persona):
    user = request.getfixturevalue(persona)
    client = Client()

    response = client.post(
        "/staff/login/?next=/staff/", {"username": user.username, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_it_never_redirects_off_the_site_after_sign_in(staff_a):
    credentials = {"username": staff_a.username, "password": PASSWORD}

    response = Client().post("/staff/login/?next=https://evil.example/", credentials)

    assert response["Location"] == "/staff/"


def test_it_refuses_patients_and_wrong_passwords_with_a_message(patient_a, staff_a):
    as_patient = Client().post(
        "/staff/login/", {"username": patient_a.user.username, "password": PASSWORD}
    )
    wrong = Client().post("/staff/login/", {"username": staff_a.username, "password": "nope"})

    assert as_patient.status_code == 400
    assert b"for clinicians and clinic staff" in as_patient.content
    assert wrong.status_code == 400
    assert b"not correct" in wrong.content


def test_it_keeps_a_signed_in_patient_out(patient_a):
    response = signed_in(patient_a.user).get("/staff/")

    assert response.status_code == 302


def test_it_shows_the_clinics_patients_and_open_alerts_but_no_other_clinics(
    staff_a, patient_a, patient_b, alert_a
):
    PrescriptionFactory(patient=patient_a)
    Alert.objects.create(patient=patient_b, kind="red_flag", details={"message": "Other clinic"})

    page = signed_in(staff_a).get("/staff/").content.decode()

    assert "Ada Moss" in page
    assert "2 of 14 sessions done." in page
    assert "Cora Hale" not in page
    assert "Other clinic" not in page
    # Staff read alerts; acknowledging is the clinician's.
    assert "Acknowledge" not in page


def test_it_keeps_each_table_inside_a_scrolling_box_on_narrow_screens(staff_a, patient_a, alert_a):
    PrescriptionFactory(patient=patient_a)

    page = signed_in(staff_a).get("/staff/").content.decode()

    assert page.count("<table>") == 2
    assert page.count('<div class="scroll">\n  <table>') == 2


def test_it_reads_the_page_in_a_constant_number_of_queries(staff_a, clinic_a):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in(staff_a).get("/staff/").status_code == 200
        return len(queries)

    prescription = PrescriptionFactory(patient=PatientFactory(clinic=clinic_a))
    CheckInFactory(prescription=prescription)
    few = count_queries()
    for _ in range(4):
        prescription = PrescriptionFactory(patient=PatientFactory(clinic=clinic_a))
        CheckInFactory(prescription=prescription)
    Alert.objects.create(patient=prescription.patient, kind="no_check_in")

    assert count_queries() == few


def test_it_downloads_the_same_csv_columns_as_the_api(staff_a, patient_a, patient_b):
    PrescriptionFactory(patient=patient_a)

    response = signed_in(staff_a).get("/staff/adherence.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == CSV_COLUMNS
    assert [r["patient"] for r in rows] == [str(patient_a.id)]


def test_it_gives_a_patient_far_from_the_clinic_their_own_28_days(staff_a, clinic_a):
    # 16:00 on 10 May in the clinic's New York is already 01:30 on 11 May in Kolkata, so
    # the patient's last 28 days are 14 April to 11 May, as in their own report.
    patient = PatientFactory(clinic=clinic_a, timezone="Asia/Kolkata")
    rx = PrescriptionFactory(patient=patient, start_date=date(2026, 4, 1))
    CheckInFactory(
        prescription=rx, slot="morning", performed_at=datetime(2026, 4, 13, 2, tzinfo=UTC)
    )
    CheckInFactory(
        prescription=rx, slot="morning", performed_at=datetime(2026, 5, 10, 2, tzinfo=UTC)
    )

    with time_machine.travel(datetime(2026, 5, 10, 20, tzinfo=UTC), tick=False):
        response = signed_in(staff_a).get("/staff/adherence.csv")
        own = client_for(staff_a).get(f"/api/v1/patients/{patient.id}/adherence/").json()

    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert (own["from"], own["to"]) == ("2026-04-14", "2026-05-11")
    assert row["from"] == own["from"]
    assert int(row["expected_sessions"]) == own["expected_sessions"]
    assert int(row["completed_sessions"]) == own["completed_sessions"] == 1


def test_it_lets_a_clinician_acknowledge_an_alert(clinician_a, alert_a):
    client = signed_in(clinician_a)

    response = client.post(f"/staff/alerts/{alert_a.id}/acknowledge/", follow=True)

    alert_a.refresh_from_db()
    assert alert_a.acknowledged_by == clinician_a
    assert alert_a.acknowledged_at is not None
    assert b"acknowledged" in response.content


def test_it_refuses_acknowledging_to_staff_and_hides_other_clinics_alerts(
    staff_a, clinician_b, alert_a
):
    by_staff = signed_in(staff_a).post(f"/staff/alerts/{alert_a.id}/acknowledge/")
    by_other_clinic = signed_in(clinician_b).post(f"/staff/alerts/{alert_a.id}/acknowledge/")

    assert by_staff.status_code == 403
    assert by_other_clinic.status_code == 404
    alert_a.refresh_from_db()
    assert alert_a.acknowledged_at is None


def test_it_signs_out(staff_a):
    client = signed_in(staff_a)

    client.post("/staff/logout/")

    assert client.get("/staff/").status_code == 302
