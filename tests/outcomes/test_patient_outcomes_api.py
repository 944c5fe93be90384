from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import AuditEntry
from tests.conftest import client_for
from tests.outcomes.support import pgic, psfs, respond

pytestmark = pytest.mark.django_db

# 03:30 UTC is still the evening before in New York (patient_a's zone).
START = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)


def url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/outcomes/"


def test_it_gives_baseline_latest_change_and_series_per_instrument(clinician_a, patient_a):
    respond(patient_a, "psfs", psfs(2, 3), START)
    respond(patient_a, "psfs", psfs(4, 4), START + timedelta(days=14))
    respond(patient_a, "psfs", psfs(5, 6), START + timedelta(days=28))
    respond(patient_a, "pgic", pgic(3), START + timedelta(days=14))
    respond(patient_a, "pgic", pgic(2), START + timedelta(days=28))

    body = client_for(clinician_a).get(url(patient_a)).json()

    assert body == [
        {
            "questionnaire": "pgic",
            "baseline": None,
            "latest": {"score": 2.0, "date": "2026-03-30"},
            "change": None,
            "responder": True,
            "series": [
                {"date": "2026-03-16", "score": 3.0},
                {"date": "2026-03-30", "score": 2.0},
            ],
        },
        {
            "questionnaire": "psfs",
            "baseline": {"score": 2.5, "date": "2026-03-02"},
            "latest": {"score": 5.5, "date": "2026-03-30"},
            "change": 3.0,
            "responder": True,
            "series": [
                {"date": "2026-03-02", "score": 2.5},
                {"date": "2026-03-16", "score": 4.0},
                {"date": "2026-03-30", "score": 5.5},
            ],
        },
    ]
    assert AuditEntry.objects.filter(patient_id=patient_a.id, action="read").count() == 1


def test_it_answers_an_empty_list_before_any_answer(patient_a):
    assert client_for(patient_a.user).get(url(patient_a)).json() == []


def test_a_worse_patient_is_no_responder(staff_a, patient_a):
    respond(patient_a, "psfs", psfs(6), START)
    respond(patient_a, "psfs", psfs(3), START + timedelta(days=30))

    (psfs_row,) = client_for(staff_a).get(url(patient_a)).json()

    assert (psfs_row["change"], psfs_row["responder"]) == (-3.0, False)


def test_it_keeps_each_person_to_their_reach(patient_a, other_patient, clinician_b, staff_a):
    respond(patient_a, "psfs", psfs(6), START)

    assert client_for(patient_a.user).get(url(patient_a)).status_code == 200
    assert client_for(staff_a).get(url(patient_a)).status_code == 200
    assert client_for(other_patient.user).get(url(patient_a)).status_code == 404
    assert client_for(clinician_b).get(url(patient_a)).status_code == 404


@pytest.mark.parametrize("responses", [2, 20])
def test_it_reads_in_a_constant_number_of_queries(clinician_a, patient_a, responses):
    for n in range(responses):
        respond(patient_a, "psfs", psfs(n % 11), START + timedelta(days=n))
    client = client_for(clinician_a)

    with CaptureQueriesContext(connection) as queries:
        (row,) = client.get(url(patient_a)).json()

    assert len(row["series"]) == responses
    assert row["latest"]["date"] == (date(2026, 3, 2) + timedelta(days=responses - 1)).isoformat()
    assert len(queries) == 5  # token, user, patient, responses, audit entry
