"""GET patients/{id}/adherence/: who may read it, its range, its shape, its queries."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.conftest import client_for
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory
from tests.prescriptions.bulk import bulk_clinic

pytestmark = pytest.mark.django_db


def url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/adherence/"


@pytest.fixture
def prescribed(patient_a):
    with time_machine.travel(datetime(2026, 5, 10, 12, tzinfo=UTC), tick=False):
        rx = PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1))
        CheckInFactory(prescription=rx, slot="morning", pain_before=6, pain_after=4)
    return patient_a


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a", "patient_a"])
def test_it_answers_the_clinic_team_and_the_patient_themself(request, persona, prescribed):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    response = client_for(user).get(url(prescribed))

    assert response.status_code == 200
    assert response.json()["patient"] == prescribed.id


@pytest.mark.parametrize("persona", ["clinician_b", "other_patient", "patient_b"])
def test_it_hides_the_report_from_everyone_else(request, persona, prescribed):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    response = client_for(user).get(url(prescribed))

    assert response.status_code == 404


def test_it_asks_for_credentials(anon, patient_a):
    assert anon.get(url(patient_a)).status_code == 401


def test_it_answers_404_for_a_patient_that_does_not_exist(clinician_a):
    assert client_for(clinician_a).get("/api/v1/patients/999999/adherence/").status_code == 404


@time_machine.travel(datetime(2026, 5, 10, 20, tzinfo=UTC), tick=False)
def test_it_defaults_to_the_28_days_ending_today_in_the_patients_zone(clinician_a, clinic_a):
    # 20:00Z on 10 May is 01:30 on 11 May in Kolkata.
    patient = PatientFactory(clinic=clinic_a, timezone="Asia/Kolkata")

    body = client_for(clinician_a).get(url(patient)).json()

    assert (body["from"], body["to"]) == ("2026-04-14", "2026-05-11")
    assert len(body["by_day"]) == 28


@time_machine.travel(datetime(2026, 5, 10, 12, tzinfo=UTC), tick=False)
def test_it_shapes_the_report_as_the_contract_says(clinician_a, prescribed):
    body = (
        client_for(clinician_a)
        .get(url(prescribed), {"from": "2026-05-01", "to": "2026-05-10"})
        .json()
    )

    # Morning and bedtime from 1 to 9 May (18) plus this morning's 07:00 (1) = 19;
    # the one session done today completes 1. 1 / 19 = 5.26 → 5.3.
    assert body["expected_sessions"] == 19
    assert body["completed_sessions"] == 1
    assert body["adherence_pct"] == 5.3
    # No session in the first week (1-7 May): no baseline, so no change.
    assert body["pain"] == {"baseline": None, "recent": 6.0, "change": None, "meaningful": False}
    assert body["by_day"][-1] == {
        "date": "2026-05-10",
        "expected": 1,
        "completed": 1,
        "extra": 0,
        "pain_before_mean": 6.0,
    }
    assert set(body) >= {
        "patient",
        "from",
        "to",
        "active_days",
        "days_with_session",
        "current_streak_days",
        "extra_sessions",
        "night_sessions",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-05-10", "to": "2026-05-01"}, "from"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
        ({"from": "2000-01-01"}, "from"),  # up to today: far more than 366 days
        ({"from": "9999-12-31", "to": "9999-12-31"}, "from"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ],
)
def test_it_refuses_a_bad_range_naming_the_field(clinician_a, patient_a, params, field):
    response = client_for(clinician_a).get(url(patient_a), params)

    assert response.status_code == 400
    assert field in response.json()


def test_it_says_a_well_written_date_that_does_not_exist_is_not_a_valid_date(
    clinician_a, patient_a
):
    response = client_for(clinician_a).get(url(patient_a), {"from": "2026-02-30"})

    assert response.status_code == 400
    assert response.json() == {"from": ["2026-02-30 is not a valid date."]}


def test_it_accepts_a_range_of_exactly_366_days(clinician_a, patient_a):
    response = client_for(clinician_a).get(
        url(patient_a), {"from": "2024-01-01", "to": "2024-12-31"}
    )

    assert response.status_code == 200
    assert len(response.json()["by_day"]) == 366


@pytest.mark.parametrize("patients", [10, 500])
def test_it_uses_the_same_few_queries_however_big_the_clinic(
    django_assert_num_queries, clinic_a, clinician_a, patients
):
    with time_machine.travel(datetime(2026, 5, 10, 12, tzinfo=UTC), tick=False):
        made = bulk_clinic(clinic_a, clinician_a, patients, start=date(2026, 5, 7), days=3)
        client = client_for(clinician_a)

        # Token and user (2), the patient (1); the report (3): the patient's zone and
        # whether their ledger is behind, the figures (the clinic table's statement over
        # this patient), the ledger's rows of the range for by_day.
        with django_assert_num_queries(6 + 1):  # + the audit entry
            response = client.get(url(made[-1]))

    assert response.json()["completed_sessions"] > 0
