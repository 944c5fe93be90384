from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import AuditEntry
from outcomes.models import QuestionnaireResponse
from tests.conftest import client_for
from tests.factories import PatientFactory
from tests.outcomes.support import pgic, psfs, respond

pytestmark = pytest.mark.django_db

URL = "/api/v1/questionnaire-responses/"
START = datetime(2026, 3, 2, 14, tzinfo=UTC)


def post(user, body):
    return client_for(user).post(URL, body, format="json")


def test_it_scores_a_patients_baseline_at_once(patient_a):
    response = post(patient_a.user, {"questionnaire": "psfs", "answers": psfs(3, 4, 6)})

    assert response.status_code == 201, response.data
    body = response.data
    assert body["questionnaire"] == "psfs"
    assert body["patient"] == patient_a.id
    assert body["score"] == 4.3
    assert (body["baseline_score"], body["change"], body["responder"]) == (4.3, 0.0, False)
    assert body["answers"] == [
        {"item": "activity_1", "value": 3, "label": "socks"},
        {"item": "activity_2", "value": 4, "label": "stairs"},
        {"item": "activity_3", "value": 6, "label": "lifting"},
    ]
    stored = QuestionnaireResponse.objects.get()
    assert stored.created_by == patient_a.user and stored.questionnaire_version == 1
    assert AuditEntry.objects.filter(patient_id=patient_a.id, action="create").count() == 1


def test_it_compares_a_follow_up_with_the_baseline_and_keeps_its_activities(patient_a):
    respond(patient_a, "psfs", psfs(3, 4), START)

    response = post(
        patient_a.user,
        {
            "questionnaire": "psfs",
            "answers": [
                {"item": "activity_1", "value": 6},
                {"item": "activity_2", "value": 5, "label": "Stairs"},
            ],
        },
    )

    assert response.status_code == 201, response.data
    body = response.data
    assert (body["score"], body["baseline_score"], body["change"]) == (5.5, 3.5, 2.0)
    assert body["responder"] is True
    assert [a["label"] for a in body["answers"]] == ["socks", "stairs"]


def test_it_answers_a_pgic_without_a_baseline(patient_a):
    respond(patient_a, "pgic", pgic(4), START)

    body = post(patient_a.user, {"questionnaire": "pgic", "answers": pgic(2)}).data

    assert (body["score"], body["baseline_score"], body["change"]) == (2.0, None, None)
    assert body["responder"] is True
    assert body["answers"] == [{"item": "change", "value": 2, "label": None}]


@pytest.mark.parametrize(
    ("questionnaire", "answers", "item"),
    [
        ("psfs", [{"item": "activity_1", "value": 11, "label": "socks"}], "activity_1"),
        ("psfs", [{"item": "activity_1", "value": -1, "label": "socks"}], "activity_1"),
        ("psfs", [{"item": "activity_7", "value": 5, "label": "socks"}], "activity_7"),
        ("psfs", [{"item": "activity_1", "value": 5}], "activity_1"),
        ("pgic", [], "change"),
        ("pgic", [{"item": "change", "value": 0}], "change"),
    ],
)
def test_it_names_the_item_in_a_400_and_stores_nothing(patient_a, questionnaire, answers, item):
    response = post(patient_a.user, {"questionnaire": questionnaire, "answers": answers})

    assert response.status_code == 400
    assert item in response.data["answers"], response.data
    assert not QuestionnaireResponse.objects.exists()
    assert not AuditEntry.objects.filter(action="create").exists()


def test_it_refuses_an_unknown_questionnaire_or_a_patient_field(patient_a, other_patient):
    unknown = post(patient_a.user, {"questionnaire": "odi", "answers": pgic(2)})
    someone_else = post(
        patient_a.user,
        {"questionnaire": "pgic", "answers": pgic(2), "patient": other_patient.id},
    )

    assert unknown.status_code == 400 and "questionnaire" in unknown.data
    assert someone_else.status_code == 400 and "patient" in someone_else.data
    assert not QuestionnaireResponse.objects.exists()


def test_it_lets_only_patients_answer(clinician_a, staff_a):
    for user in (clinician_a, staff_a):
        assert post(user, {"questionnaire": "pgic", "answers": pgic(2)}).status_code == 403
    assert not QuestionnaireResponse.objects.exists()


def test_a_patient_reads_only_their_own(patient_a, other_patient):
    mine = respond(patient_a, "pgic", pgic(3), START)
    theirs = respond(other_patient, "pgic", pgic(5), START)
    client = client_for(patient_a.user)

    listed = client.get(URL).data["results"]

    assert [row["id"] for row in listed] == [mine.id]
    assert client.get(f"{URL}{theirs.id}/").status_code == 404
    assert client.get(f"{URL}{mine.id}/").data["score"] == 3.0


def test_the_team_reads_its_clinics_and_another_clinic_gets_404(
    clinician_a, staff_a, clinician_b, patient_a, patient_b
):
    ours = respond(patient_a, "pgic", pgic(3), START)
    respond(patient_b, "pgic", pgic(1), START)

    for user in (clinician_a, staff_a):
        assert [r["id"] for r in client_for(user).get(URL).data["results"]] == [ours.id]
        assert client_for(user).get(f"{URL}{ours.id}/").status_code == 200
    assert client_for(clinician_b).get(f"{URL}{ours.id}/").status_code == 404


def test_it_filters_by_patient_and_questionnaire(clinician_a, patient_a, other_patient):
    a_psfs = respond(patient_a, "psfs", psfs(3), START)
    respond(patient_a, "pgic", pgic(3), START)
    respond(other_patient, "psfs", psfs(5), START)
    client = client_for(clinician_a)

    rows = client.get(URL, {"patient": patient_a.id, "questionnaire": "psfs"}).data["results"]

    assert [row["id"] for row in rows] == [a_psfs.id]
    assert client.get(URL, {"patient": "x"}).status_code == 400


def test_each_listed_response_carries_its_change_from_the_patients_baseline(clinician_a, patient_a):
    respond(patient_a, "psfs", psfs(2, 4), START)
    respond(patient_a, "psfs", psfs(4, 4), START + timedelta(days=14))
    respond(patient_a, "psfs", psfs(1, 1), START + timedelta(days=28))

    rows = client_for(clinician_a).get(URL).data["results"]

    assert [(r["score"], r["change"], r["responder"]) for r in rows] == [
        (3.0, 0.0, False),
        (4.0, 1.0, False),
        (1.0, -2.0, False),
    ]


@pytest.mark.parametrize("patients", [2, 20])
def test_it_lists_in_a_constant_number_of_queries(clinician_a, patients):
    for n in range(patients):
        patient = PatientFactory(clinic=clinician_a.clinic)
        for week in range(3):
            respond(patient, "psfs", psfs(n % 10, 5), START + timedelta(weeks=week))
            respond(patient, "pgic", pgic(1 + n % 7), START + timedelta(weeks=week))
    client = client_for(clinician_a)

    with CaptureQueriesContext(connection) as queries:
        body = client.get(URL, {"page_size": 100}).data

    assert body["count"] == patients * 6
    assert len(queries) == 5  # token, user, count, page with baselines, audit entries


@time_machine.travel(START, tick=False)
def test_it_answers_at_the_time_it_was_sent(patient_a):
    body = post(patient_a.user, {"questionnaire": "pgic", "answers": pgic(4)}).data

    assert body["answered_at"].startswith("2026-03-02T")
    assert QuestionnaireResponse.objects.get().answered_at == START


def test_a_retry_with_the_same_key_stores_the_response_once(patient_a):
    client = client_for(patient_a.user)
    body = {"questionnaire": "pgic", "answers": pgic(2)}

    key = {"HTTP_IDEMPOTENCY_KEY": "k-1"}

    first = client.post(URL, body, format="json", **key)
    again = client.post(URL, body, format="json", **key)
    other = client.post(URL, {**body, "answers": pgic(3)}, format="json", **key)

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 409)
    assert again["Idempotent-Replayed"] == "true" and again.data == first.data
    assert QuestionnaireResponse.objects.count() == 1
