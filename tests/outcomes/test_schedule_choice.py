"""The clinician chooses the questionnaires when prescribing, on the API and on the page,
and changes them later on the page: the same rules as PUT prescriptions/{id}/questionnaires/."""

from datetime import UTC, datetime

import pytest
import time_machine

from prescriptions.models import Prescription
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def schedule_of(prescription) -> dict:
    return {
        row.questionnaire.slug: (row.first_day, row.every_days, row.at_end)
        for row in prescription.questionnaire_schedules.select_related("questionnaire")
    }


# --- the API -----------------------------------------------------------------------------


def prescribe_api(clinician, patient, **body):
    return client_for(clinician).post(
        "/api/v1/prescriptions/", {"patient": patient.id, **body}, format="json"
    )


def test_prescribing_on_the_api_takes_the_questionnaires_chosen(clinician_a, patient_a):
    response = prescribe_api(
        clinician_a,
        patient_a,
        questionnaires=[{"questionnaire": "psfs", "first_day": 0, "every_days": 7}],
    )

    assert response.status_code == 201
    prescription = Prescription.objects.get(id=response.json()["id"])
    assert schedule_of(prescription) == {"psfs": (0, 7, False)}


def test_an_empty_list_asks_for_none_and_no_list_for_the_defaults(
    clinician_a, patient_a, other_patient
):
    none = prescribe_api(clinician_a, patient_a, questionnaires=[])
    defaults = prescribe_api(clinician_a, other_patient)

    assert schedule_of(Prescription.objects.get(id=none.json()["id"])) == {}
    assert schedule_of(Prescription.objects.get(id=defaults.json()["id"])) == {
        "psfs": (0, 14, True),
        "pgic": (14, 14, True),
    }


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"questionnaire": "odi", "first_day": 0}, "questionnaire"),
        ({"questionnaire": "psfs"}, "first_day"),
        ({"questionnaire": "psfs", "every_days": 7, "at_end": True}, "every_days"),
    ],
)
def test_a_bad_choice_is_a_400_naming_it_and_prescribes_nothing(
    clinician_a, patient_a, entry, field
):
    response = prescribe_api(clinician_a, patient_a, questionnaires=[entry])

    assert response.status_code == 400
    assert field in response.json()["questionnaires"]["0"]
    assert not patient_a.prescriptions.exists()


def test_the_schema_documents_the_choice(clinician_a):
    schema = client_for(clinician_a).get("/api/v1/schema/?format=json").json()
    fields = schema["components"]["schemas"]["PrescriptionWriteRequest"]["properties"]
    assert fields["questionnaires"]["type"] == "array"


# --- the pages ---------------------------------------------------------------------------


PLAN = {"start_date": "2026-05-20", "bedtime": "on", "bedtime_time": "22:00"}


def test_the_prescribe_page_offers_each_questionnaire_with_its_defaults(clinician_a, patient_a):
    page = signed_in(clinician_a).get(f"/staff/patients/{patient_a.id}/prescribe/")

    html = page.content.decode()
    assert "Ask for the Patient-Specific Functional Scale" in html
    assert 'name="questionnaires-psfs" id="id_questionnaires-psfs" checked' in html
    assert 'name="questionnaires-pgic_first_day" value="14"' in html


def test_the_prescribe_page_prescribes_the_questionnaires_ticked(clinician_a, patient_a):
    response = signed_in(clinician_a).post(
        f"/staff/patients/{patient_a.id}/prescribe/",
        {
            **PLAN,
            "questionnaires-shown": "True",
            # The PGIC left unticked; the PSFS every 7 days, not on the last day.
            "questionnaires-psfs": "on",
            "questionnaires-psfs_first_day": "0",
            "questionnaires-psfs_every_days": "7",
        },
    )

    assert response.status_code == 302
    assert schedule_of(patient_a.prescriptions.get()) == {"psfs": (0, 7, False)}


def test_the_prescribe_page_names_a_bad_choice_and_prescribes_nothing(clinician_a, patient_a):
    response = signed_in(clinician_a).post(
        f"/staff/patients/{patient_a.id}/prescribe/",
        {**PLAN, "questionnaires-shown": "True", "questionnaires-psfs": "on"},
    )

    assert response.status_code == 400
    assert 'id="id_questionnaires-psfs_first_day_error"' in response.content.decode()
    assert not patient_a.prescriptions.exists()


@pytest.fixture
def prescription(patient_a, clinician_a):
    response = prescribe_api(clinician_a, patient_a)
    return Prescription.objects.get(id=response.json()["id"])


def change_url(prescription) -> str:
    return f"/staff/prescriptions/{prescription.id}/questionnaires/"


def test_the_patient_page_says_what_is_asked_and_links_the_change(clinician_a, prescription):
    page = signed_in(clinician_a).get(f"/staff/patients/{prescription.patient_id}/")

    html = page.content.decode()
    assert (
        "Asked for: the Patient Global Impression of Change on day 14, then every 14 days "
        "and on the last day; the Patient-Specific Functional Scale at the start, then every "
        "14 days and on the last day." in html
    )
    assert change_url(prescription) in html


def test_a_clinician_changes_the_questionnaires_later(clinician_a, prescription):
    client = signed_in(clinician_a)
    form = client.get(change_url(prescription))
    response = client.post(
        change_url(prescription),
        {
            "questionnaires-shown": "True",
            "questionnaires-pgic": "on",
            "questionnaires-pgic_first_day": "28",
            "questionnaires-pgic_at_end": "on",
        },
    )

    assert form.status_code == 200
    assert 'name="questionnaires-pgic_first_day" value="14"' in form.content.decode()
    assert response.status_code == 302
    assert schedule_of(prescription) == {"pgic": (28, None, True)}


def test_staff_and_another_clinic_cannot_change_them(staff_a, clinician_b, prescription):
    assert signed_in(staff_a).post(change_url(prescription), {}).status_code == 403
    assert signed_in(clinician_b).get(change_url(prescription)).status_code == 404
    assert len(schedule_of(prescription)) == 2


def test_nothing_ticked_asks_for_none(clinician_a, prescription):
    response = signed_in(clinician_a).post(change_url(prescription), {})

    assert response.status_code == 302
    assert schedule_of(prescription) == {}
