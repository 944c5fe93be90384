import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import AuditEntry
from outcomes.selectors import clinic_outcomes
from tests.conftest import client_for
from tests.factories import PatientFactory
from tests.outcomes.support import pgic, psfs, respond

pytestmark = pytest.mark.django_db

URL = "/api/v1/outcomes/"
START = datetime(2026, 3, 2, 14, tzinfo=UTC)


def by_slug(body) -> dict:
    return {row["questionnaire"]: row for row in body["results"]}


@pytest.fixture
def followed(clinician_a, patient_a, patient_b):
    """Four patients of clinic A, one of clinic B:
    - improved by 3 at four weeks (a responder), PGIC 2 at six weeks;
    - worse by 2 at five weeks, PGIC 6 at six weeks;
    - improved by 4 but only 20 days in (not followed up yet);
    - a baseline only.
    Clinic B's patient would be a responder; they count only for clinic B."""
    clinic = clinician_a.clinic
    better, worse, early, new = patient_a, *(PatientFactory(clinic=clinic) for _ in range(3))
    respond(better, "psfs", psfs(3), START)
    respond(better, "psfs", psfs(6), START + timedelta(days=28))
    respond(better, "pgic", pgic(3), START + timedelta(days=14))
    respond(better, "pgic", pgic(2), START + timedelta(days=42))
    respond(worse, "psfs", psfs(5), START)
    respond(worse, "psfs", psfs(3), START + timedelta(days=35))
    respond(worse, "pgic", pgic(5), START + timedelta(days=14))
    respond(worse, "pgic", pgic(6), START + timedelta(days=42))
    respond(early, "psfs", psfs(2), START)
    respond(early, "psfs", psfs(6), START + timedelta(days=20))
    respond(new, "psfs", psfs(4), START)
    respond(patient_b, "psfs", psfs(1), START)
    respond(patient_b, "psfs", psfs(9), START + timedelta(days=40))


def test_it_sums_up_the_clinics_outcomes_per_instrument(clinician_a, followed):
    body = client_for(clinician_a).get(URL).json()

    assert by_slug(body) == {
        "psfs": {
            "questionnaire": "psfs",
            "patients_with_baseline": 4,
            "patients_followed_up": 2,
            "responders": 1,
            "responder_pct": 50.0,
            # The median of +3 and -2.
            "median_change": 0.5,
        },
        "pgic": {
            "questionnaire": "pgic",
            "patients_with_baseline": 2,
            "patients_followed_up": 2,
            "responders": 1,
            "responder_pct": 50.0,
            "median_change": None,
        },
    }
    # Counts carry no patient's data: nothing to audit.
    assert not AuditEntry.objects.exists()


def test_it_answers_zeros_and_nulls_before_any_answer(staff_a):
    rows = by_slug(client_for(staff_a).get(URL).json())

    assert rows["psfs"]["patients_with_baseline"] == 0
    assert (rows["psfs"]["responder_pct"], rows["psfs"]["median_change"]) == (None, None)


def test_it_is_for_the_clinic_team(patient_a, anon):
    assert client_for(patient_a.user).get(URL).status_code == 403
    assert anon.get(URL).status_code == 401


@time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC), tick=False)
def test_it_exports_csv_like_the_adherence_table(clinician_a, followed):
    response = client_for(clinician_a).get(URL, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="outcomes-riverside-2026-05-01.csv"'
    )
    text = response.content.decode()
    assert not text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text))) == [
        [
            "questionnaire",
            "patients_with_baseline",
            "patients_followed_up",
            "responders",
            "responder_pct",
            "median_change",
        ],
        ["pgic", "2", "2", "1", "50.0", ""],
        ["psfs", "4", "2", "1", "50.0", "0.5"],
    ]


@pytest.mark.parametrize("patients", [2, 20])
def test_it_sums_up_in_a_constant_number_of_queries(clinician_a, patients):
    for n in range(patients):
        patient = PatientFactory(clinic=clinician_a.clinic)
        for week in (0, 2, 4):
            respond(patient, "psfs", psfs((n + week) % 11), START + timedelta(weeks=week))
            respond(patient, "pgic", pgic(1 + n % 7), START + timedelta(weeks=week))
    client = client_for(clinician_a)

    with CaptureQueriesContext(connection) as queries:
        rows = by_slug(client.get(URL).json())

    assert rows["psfs"]["patients_followed_up"] == patients
    assert len(queries) == 5  # token, user, clinic, instruments, one row per patient and instrument


def test_it_counts_a_follow_up_from_exactly_28_days_to_the_microsecond(patient_a, other_patient):
    first = datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC)
    respond(patient_a, "psfs", psfs(3), first)
    respond(patient_a, "psfs", psfs(6), first + timedelta(days=28))
    respond(other_patient, "psfs", psfs(3), first)
    respond(other_patient, "psfs", psfs(6), first + timedelta(days=28, microseconds=-1))

    [_, psfs_row] = clinic_outcomes(patient_a.clinic_id)
    assert (psfs_row["patients_with_baseline"], psfs_row["patients_followed_up"]) == (2, 1)
