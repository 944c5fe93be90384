"""Which prescription is a patient's current one and what it reads, the same on every page:
the clinic table (SQL), the clinic's patient page, the patient's /my/ page and their export."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from prescriptions import services
from prescriptions.adherence import current_of
from prescriptions.models import Prescription, status_read
from prescriptions.schedule import local_today
from tests.conftest import client_for
from tests.factories import PatientFactory, PrescriptionFactory
from tests.prescriptions.csv_support import csv_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# 08:00 on 10 May in New York; already 02:00 on 11 May at Kiritimati (UTC+14).
NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)
EAST = "Pacific/Kiritimati"


def ended(rx: Prescription) -> Prescription:
    services.prescription_status_change(to=Prescription.Status.ENDED, prescription=rx)
    return rx


@pytest.fixture
def edge_cases(clinic_a):
    """One patient per edge of the rule, named by what their current prescription reads."""

    def person(name, timezone="America/New_York"):
        return PatientFactory(clinic=clinic_a, first_name=name, timezone=timezone)

    person("none")
    PrescriptionFactory(patient=person("only-future"), start_date=date(2026, 5, 20))
    PrescriptionFactory(patient=person("paused"), paused=True)
    PrescriptionFactory(patient=person("lapsed-east", EAST), end_date=date(2026, 5, 10))
    PrescriptionFactory(patient=person("lasts-today-west"), end_date=date(2026, 5, 10))
    mixed = person("ended-and-active")
    PrescriptionFactory(patient=mixed, start_date=date(2026, 4, 1))
    ended(PrescriptionFactory(patient=mixed, start_date=date(2026, 5, 1)))
    running_and_next = person("paused-and-next")
    PrescriptionFactory(patient=running_and_next, start_date=date(2026, 4, 1), paused=True)
    PrescriptionFactory(patient=running_and_next, start_date=date(2026, 6, 1))
    ended_only = person("ended-only")
    ended(PrescriptionFactory(patient=ended_only, start_date=date(2026, 3, 1)))
    PrescriptionFactory(patient=ended_only, start_date=date(2026, 4, 1), end_date=date(2026, 5, 1))
    return clinic_a


def python_reading(patient) -> str:
    today = local_today(patient.zone)
    current = current_of(patient.prescriptions.all(), today)
    return "" if current is None else status_read(current.status, current.end_date, today)


def test_it_reads_every_edge_case_the_same_in_the_clinic_table_sql_as_in_python(
    clinician_a, edge_cases
):
    response = client_for(clinician_a).get("/api/v1/adherence/", {"format": "csv"})

    rows = csv.DictReader(io.StringIO(csv_text(response)))
    from_sql = {row["first_name"]: row["prescription_status"] for row in rows}
    from_python = {p.first_name: python_reading(p) for p in edge_cases.patients.all()}
    assert from_sql == from_python
    assert from_sql == {
        "none": "",
        "only-future": "active",
        "paused": "paused",
        "lapsed-east": "ended",
        "lasts-today-west": "active",
        "ended-and-active": "active",
        "paused-and-next": "paused",
        "ended-only": "ended",
    }


def test_it_picks_the_running_course_over_the_next_one_to_start(patient_a):
    running = PrescriptionFactory(patient=patient_a, start_date=date(2026, 4, 1))
    PrescriptionFactory(patient=patient_a, start_date=date(2026, 6, 1))

    assert current_of(patient_a.prescriptions.all(), date(2026, 5, 10)) == running


def test_it_picks_the_next_course_to_start_before_one_that_has_ended(patient_a):
    ended(PrescriptionFactory(patient=patient_a, start_date=date(2026, 4, 1)))
    PrescriptionFactory(patient=patient_a, start_date=date(2026, 7, 1))
    soonest = PrescriptionFactory(patient=patient_a, start_date=date(2026, 6, 1))

    assert current_of(patient_a.prescriptions.all(), date(2026, 5, 10)) == soonest


def test_it_picks_the_latest_started_course_when_all_have_ended(patient_a):
    ended(PrescriptionFactory(patient=patient_a, start_date=date(2026, 3, 1)))
    latest = PrescriptionFactory(
        patient=patient_a, start_date=date(2026, 4, 1), end_date=date(2026, 5, 1)
    )

    assert current_of(patient_a.prescriptions.all(), date(2026, 5, 10)) == latest


def test_the_clinic_table_shows_the_running_course_not_the_next_one(clinic_a, staff_a, patient_a):
    PrescriptionFactory(patient=patient_a, start_date=date(2026, 4, 1))
    PrescriptionFactory(patient=patient_a, start_date=date(2026, 6, 1))
    client = Client()
    client.force_login(staff_a)

    page = client.get("/staff/").content.decode()

    assert '<span class="pill active">Active</span>' in page
    assert "Starts Jun 1" not in page


@pytest.fixture
def lapsed_yesterday(clinic_a):
    """A course whose last day was yesterday in the patient's zone (still today in UTC)."""
    patient = PatientFactory(clinic=clinic_a, first_name="Eve", timezone=EAST)
    rx = PrescriptionFactory(patient=patient, start_date=date(2026, 4, 1), end_date=NOW.date())
    assert rx.status == Prescription.Status.ACTIVE  # the stored cache still says so
    return patient


def test_the_patients_own_page_reads_ended_the_day_after_the_last_day(lapsed_yesterday):
    client = Client()
    client.force_login(lapsed_yesterday.user)

    page = client.get("/my/").content.decode()

    assert 'data-testid="plan-status">Your exercise plan: <strong>ended</strong>' in page
    assert 'id="check-in"' not in page


def test_the_patients_own_page_reads_active_on_the_last_day(clinic_a):
    patient = PatientFactory(clinic=clinic_a, first_name="Fay", timezone="America/New_York")
    PrescriptionFactory(patient=patient, start_date=date(2026, 4, 1), end_date=NOW.date())
    client = Client()
    client.force_login(patient.user)

    page = client.get("/my/").content.decode()

    assert 'data-testid="plan-status">Your exercise plan: <strong>active</strong>' in page
    assert 'id="check-in"' in page


def test_the_patients_own_page_says_when_a_plan_still_to_come_starts(clinic_a):
    patient = PatientFactory(clinic=clinic_a, first_name="Gus", timezone="America/New_York")
    ended(PrescriptionFactory(patient=patient, start_date=date(2026, 4, 1)))
    PrescriptionFactory(patient=patient, start_date=date(2026, 5, 18))
    client = Client()
    client.force_login(patient.user)

    page = client.get("/my/").content.decode()

    assert (
        'data-testid="plan-status">Your exercise plan starts on <strong>Monday 18 May</strong>'
        in page
    )


def test_the_patients_own_page_reads_ended_for_a_plan_ended_before_it_started(clinic_a):
    patient = PatientFactory(clinic=clinic_a, first_name="Hal", timezone="America/New_York")
    ended(PrescriptionFactory(patient=patient, start_date=date(2026, 5, 18)))
    client = Client()
    client.force_login(patient.user)

    page = client.get("/my/").content.decode()

    assert 'data-testid="plan-status">Your exercise plan: <strong>ended</strong>' in page


def test_the_patients_export_reads_ended_the_day_after_the_last_day(lapsed_yesterday):
    response = client_for(lapsed_yesterday.user).get("/api/v1/me/export/")

    [rx] = json.loads(response.content)["prescriptions"]
    assert rx["status"] == "ended"


def test_the_clinic_patient_page_shows_an_ended_course_reading_ended(staff_a, lapsed_yesterday):
    client = Client()
    client.force_login(staff_a)

    page = client.get(f"/staff/patients/{lapsed_yesterday.id}/").content.decode()

    head = page.split('id="rx-title"')[1].split("</div>")[0]
    assert '<span class="pill ended">Ended</span>' in head
    assert "Apr 1, 2026 \u2013 May 10, 2026" in page
    assert 'value="pause"' not in page


def test_the_clinic_patient_page_says_when_the_next_course_starts(staff_a, patient_a):
    ended(PrescriptionFactory(patient=patient_a, start_date=date(2026, 4, 1)))
    PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 18))
    client = Client()
    client.force_login(staff_a)

    page = client.get(f"/staff/patients/{patient_a.id}/").content.decode()

    head = page.split('id="rx-title"')[1].split("</div>")[0]
    assert '<span class="pill upcoming">Starts May 18</span>' in head
    assert "Active" not in head


def test_the_clinic_patient_page_still_shows_a_course_ended_by_hand(staff_a, patient_a):
    ended(PrescriptionFactory(patient=patient_a, start_date=date(2026, 4, 1)))
    client = Client()
    client.force_login(staff_a)

    page = client.get(f"/staff/patients/{patient_a.id}/").content.decode()

    head = page.split('id="rx-title"')[1].split("</div>")[0]
    assert '<span class="pill ended">Ended</span>' in head
    # The dates end on the day it was ended (issue 18: no longer "open").
    assert "Apr 1, 2026 \u2013 May 10, 2026" in page


def test_a_week_old_end_date_reads_ended_everywhere_in_the_same_way(clinic_a):
    patient = PatientFactory(clinic=clinic_a)
    PrescriptionFactory(
        patient=patient, start_date=date(2026, 4, 1), end_date=NOW.date() - timedelta(days=7)
    )

    assert python_reading(patient) == "ended"
