"""A patient's questionnaire responses in their export (me/export/) and in their FHIR
bundle (patients/{id}/fhir/): each instrument a Questionnaire by its canonical URL, each
answer a QuestionnaireResponse, the bundle validated with fhir.resources."""

from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle

from outcomes.export import canonical_url
from outcomes.models import Questionnaire
from tests.conftest import client_for
from tests.outcomes.support import pgic, psfs, respond

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 6, 14, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _canonical_base(settings):
    settings.FHIR_CANONICAL_BASE = "https://clinic.example.org/fhir"


@pytest.fixture
def answered(patient_a, other_patient):
    respond(patient_a, "psfs", psfs(3, 4, labels=("putting on socks", "stairs")), START)
    respond(
        patient_a,
        "psfs",
        psfs(6, 7, labels=("putting on socks", "stairs")),
        START + timedelta(days=14),
    )
    respond(patient_a, "pgic", pgic(2), START + timedelta(days=14))
    respond(other_patient, "psfs", psfs(1), START)
    return patient_a


def test_the_export_holds_the_patients_responses_and_no_one_elses(answered):
    data = client_for(answered.user).get("/api/v1/me/export/").json()

    responses = data["questionnaire_responses"]
    assert [(r["questionnaire"], r["score"]) for r in responses] == [
        ("psfs", "3.5"),
        ("psfs", "6.5"),
        ("pgic", "2.0"),
    ]
    first = responses[0]
    assert first["answers"][0] == {"item": "activity_1", "value": 3, "label": "putting on socks"}
    assert first["questionnaire_version"] == 1
    assert "patient_id" not in first and "created_by_id" not in first


def bundle_of(user, patient) -> dict:
    response = client_for(user).get(f"/api/v1/patients/{patient.id}/fhir/")
    assert response.status_code == 200
    return response.json()


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_validates_with_a_questionnaire_per_instrument_and_a_response_per_answer(
    clinician_a, answered
):
    bundle = bundle_of(clinician_a, answered)

    parsed = Bundle.model_validate(bundle)
    kinds = [entry.resource.get_resource_type() for entry in parsed.entry]
    assert kinds == ["Patient", "Questionnaire", "Questionnaire", *["QuestionnaireResponse"] * 3]
    assert [q["url"] for q in resources(bundle, "Questionnaire")] == [
        "https://clinic.example.org/fhir/Questionnaire/pgic",
        "https://clinic.example.org/fhir/Questionnaire/psfs",
    ]


def test_each_response_names_its_questionnaire_by_canonical_url_and_version(clinician_a, answered):
    bundle = bundle_of(clinician_a, answered)

    urls = {f"{q['url']}|{q['version']}" for q in resources(bundle, "Questionnaire")}
    responses = resources(bundle, "QuestionnaireResponse")
    assert {r["questionnaire"] for r in responses} == urls
    subject = [e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert {r["subject"]["reference"] for r in responses} == set(subject)
    # The patient's local time (New York in April: UTC-4).
    assert responses[0]["authored"] == "2026-04-06T10:00:00-04:00"


def test_a_psfs_answer_carries_the_activity_its_rating_and_the_score(clinician_a, answered):
    first = resources(bundle_of(clinician_a, answered), "QuestionnaireResponse")[0]

    assert first["item"] == [
        {
            "linkId": "activity_1",
            "item": [
                {"linkId": "activity_1.label", "answer": [{"valueString": "putting on socks"}]},
                {"linkId": "activity_1.value", "answer": [{"valueInteger": 3}]},
            ],
        },
        {
            "linkId": "activity_2",
            "item": [
                {"linkId": "activity_2.label", "answer": [{"valueString": "stairs"}]},
                {"linkId": "activity_2.value", "answer": [{"valueInteger": 4}]},
            ],
        },
        {"linkId": "score", "answer": [{"valueDecimal": 3.5}]},
    ]


def test_a_pgic_answer_is_a_coding_of_its_option(clinician_a, answered):
    [pgic_response] = [
        r
        for r in resources(bundle_of(clinician_a, answered), "QuestionnaireResponse")
        if "pgic" in r["questionnaire"]
    ]

    assert pgic_response["item"][0] == {
        "linkId": "change",
        "answer": [{"valueCoding": {"code": "2", "display": "Clearly better"}}],
    }


def test_every_answered_link_id_is_one_of_its_questionnaires_items(clinician_a, answered):
    bundle = bundle_of(clinician_a, answered)

    def link_ids(items):
        for item in items:
            yield item["linkId"]
            yield from link_ids(item.get("item", []))

    by_url = {
        f"{q['url']}|{q['version']}": set(link_ids(q["item"]))
        for q in resources(bundle, "Questionnaire")
    }
    for response in resources(bundle, "QuestionnaireResponse"):
        assert set(link_ids(response["item"])) <= by_url[response["questionnaire"]]


def test_a_clinics_own_instrument_keeps_its_own_canonical_url():
    questionnaire = Questionnaire(slug="odi", canonical_url="https://licensor.example/odi")

    assert canonical_url(questionnaire) == "https://licensor.example/odi"


def test_another_clinic_gets_no_bundle(clinician_b, answered):
    response = client_for(clinician_b).get(f"/api/v1/patients/{answered.id}/fhir/")

    assert response.status_code == 404


def test_no_answers_add_nothing(clinician_a, patient_a):
    bundle = bundle_of(clinician_a, patient_a)

    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
