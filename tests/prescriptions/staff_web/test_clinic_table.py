"""The clinic team's web page at /staff/: session sign-in, adherence table, CSV, alerts."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from prescriptions import services
from prescriptions.adherence.clinic_csv import csv_columns
from prescriptions.models import Alert, Prescription
from tests.conftest import client_for, signed_in
from tests.factories import PASSWORD, CheckInFactory, PatientFactory, PrescriptionFactory
from tests.prescriptions.csv_support import csv_text

pytestmark = pytest.mark.django_db


def prescription_cell(page: str, name: str) -> str:
    """The text of the Prescription cell in the adherence row of the patient called `name`."""
    table = page.split('id="clinic-table"')[1]
    (row,) = [r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if f">{name}</a>" in r]
    cell = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[1]
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


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

    # The patients, and the outcomes' summary.
    assert page.count("<table") == 2
    assert len(re.findall(r'<div class="scroll"[^>]*>\s*<table', page)) == 2


def test_it_reads_the_page_in_a_constant_number_of_queries(staff_a, clinic_a):
    def count_queries() -> int:
        # The first read after patients were made without the tick writes their ledger.
        signed_in(staff_a).get("/staff/")
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
    rows = list(csv.DictReader(io.StringIO(csv_text(response))))
    assert list(rows[0]) == csv_columns()
    assert [r["patient"] for r in rows] == [str(patient_a.id)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from", "last week"),
        ("to", "2026-02-30"),
        ("from", "9999-12-31"),
        ("q", "x" * 101),
        ("show", "everyone-else"),
        ("sort", "password"),
        ("page", "0"),
    ],
)
def test_it_refuses_a_csv_with_a_bad_filter_naming_the_field(staff_a, patient_a, field, value):
    PrescriptionFactory(patient=patient_a)

    response = signed_in(staff_a).get("/staff/adherence.csv", {field: value})

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_it_refuses_a_csv_whose_range_is_back_to_front(staff_a):
    response = signed_in(staff_a).get(
        "/staff/adherence.csv", {"from": "2026-05-10", "to": "2026-05-01"}
    )

    assert response.status_code == 400
    message = "The first day (From) must not be after the last day (To)."
    assert response.json() == {"from": [message]}


def test_it_offers_no_download_while_the_filters_are_in_error(staff_a):
    client = signed_in(staff_a)

    assert "Download CSV" in client.get("/staff/").content.decode()
    assert "Download CSV" not in client.get("/staff/", {"from": "last week"}).content.decode()


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

    (row,) = csv.DictReader(io.StringIO(csv_text(response)))
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


def test_it_flags_a_paused_prescription_with_the_patients_own_date_it_was_paused(staff_a, clinic_a):
    patient = PatientFactory(clinic=clinic_a, first_name="Ida", last_name="Park")
    patient.timezone = "Asia/Tokyo"
    patient.save()
    with time_machine.travel(datetime(2026, 5, 12, 12, tzinfo=UTC), tick=False):
        rx = PrescriptionFactory(patient=patient)
        # 16:00 UTC on 9 May is already 10 May in Tokyo.
        services.prescription_status_change(
            to=Prescription.Status.PAUSED,
            prescription=rx,
            effective=datetime(2026, 5, 9, 16, tzinfo=UTC),
            reason="Red flag",
        )
        page = signed_in(staff_a).get("/staff/").content.decode()

    assert prescription_cell(page, "Ida Park") == "Paused since May 10"
    assert '<span class="pill paused" title="Red flag">Paused since May 10</span>' in page


def test_it_shows_a_resumed_prescription_as_active(staff_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    services.prescription_status_change(
        to=Prescription.Status.PAUSED,
        prescription=rx,
        effective=datetime.now(UTC) - timedelta(hours=2),
    )
    services.prescription_status_change(to=Prescription.Status.ACTIVE, prescription=rx)

    page = signed_in(staff_a).get("/staff/").content.decode()

    assert prescription_cell(page, "Ada Moss") == "Active"
    assert "pill paused" not in page


def test_it_shows_ended_prescriptions_whether_ended_early_or_run_to_their_end_date(
    staff_a, patient_a, other_patient
):
    services.prescription_status_change(
        to=Prescription.Status.ENDED, prescription=PrescriptionFactory(patient=patient_a)
    )
    PrescriptionFactory(patient=other_patient, end_date=date.today() - timedelta(days=3))

    page = signed_in(staff_a).get("/staff/").content.decode()

    assert prescription_cell(page, "Ada Moss") == "Ended"
    assert prescription_cell(page, "Ben Lowe") == "Ended"


def test_it_shows_the_new_course_rather_than_an_older_ended_one(staff_a, patient_a):
    old = PrescriptionFactory(patient=patient_a, start_date=date.today() - timedelta(days=60))
    services.prescription_status_change(to=Prescription.Status.ENDED, prescription=old)
    PrescriptionFactory(patient=patient_a, start_date=date.today() - timedelta(days=5))

    page = signed_in(staff_a).get("/staff/").content.decode()

    assert prescription_cell(page, "Ada Moss") == "Active"


def test_it_shows_when_a_prescription_not_yet_started_begins(staff_a, patient_a):
    with time_machine.travel(datetime(2026, 5, 12, 12, tzinfo=UTC), tick=False):
        PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 18))
        page = signed_in(staff_a).get("/staff/").content.decode()

    assert prescription_cell(page, "Ada Moss") == "Starts May 18"


def test_it_shows_none_for_a_patient_never_prescribed(staff_a, patient_a):
    page = signed_in(staff_a).get("/staff/").content.decode()

    assert prescription_cell(page, "Ada Moss") == "None"


def test_it_reads_prescription_states_in_the_same_queries_for_2_or_20_patients(staff_a, clinic_a):
    def add_patients(n: int) -> None:
        for i in range(n):
            patient = PatientFactory(clinic=clinic_a)
            if i % 4 == 0:
                continue  # never prescribed
            rx = PrescriptionFactory(patient=patient)
            if i % 4 == 1:
                services.prescription_status_change(
                    to=Prescription.Status.PAUSED, prescription=rx, reason="Red flag"
                )
            elif i % 4 == 2:
                services.prescription_status_change(to=Prescription.Status.ENDED, prescription=rx)

    def count_queries() -> int:
        # The first read after patients were made without the tick writes their ledger.
        signed_in(staff_a).get("/staff/")
        with CaptureQueriesContext(connection) as queries:
            page = signed_in(staff_a).get("/staff/").content.decode()
        assert "Paused since" in page
        return len(queries)

    add_patients(2)
    two = count_queries()
    add_patients(18)

    assert count_queries() == two


def test_the_site_root_leads_to_the_staff_pages(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_the_sign_in_page_locks_out_the_guessing_address_only(clinician_a, settings):
    attacker, rightful = Client(REMOTE_ADDR="203.0.113.9"), Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(settings.SIGN_IN_MAX_FAILURES):
        attacker.post("/staff/login/", {"username": clinician_a.username, "password": "guess"})

    right = {"username": clinician_a.username, "password": PASSWORD}
    assert "Too many failed attempts" in attacker.post("/staff/login/", right).content.decode()
    assert rightful.post("/staff/login/", right).status_code == 302
