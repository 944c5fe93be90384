import re

import pytest
from django.core import mail

from clinic.models import AuditEntry
from patients import services
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "rock-gently-each-night"


@pytest.fixture
def enrolment(clinician_a):
    return services.patient_enrol(
        clinic=clinician_a.clinic,
        enrolled_by=clinician_a,
        first_name="Eli",
        last_name="Park",
        email="eli@example.test",
    )


def invite(client, patient_id, capture):
    with capture(execute=True):
        return client.post(f"/api/v1/patients/{patient_id}/invite/")


def code_in(body: str) -> str:
    return re.search(r"\b([A-Z0-9]{5}-[A-Z0-9]{5})\b", body).group(1)


def activate(client, code):
    return client.post("/api/v1/auth/activate/", {"code": code, "password": PASSWORD})


def test_it_emails_the_patient_a_link_and_a_fresh_code(
    clinician_a, enrolment, django_capture_on_commit_callbacks
):
    response = invite(
        client_for(clinician_a), enrolment.patient.id, django_capture_on_commit_callbacks
    )

    assert response.status_code == 202
    [message] = mail.outbox
    assert message.to == ["eli@example.test"]
    assert "http://testserver/my/activate/" in message.body
    assert "Your pages are at http://testserver/my/" in message.body
    assert code_in(message.body) != enrolment.activation_code


def test_it_makes_the_old_code_stop_working_and_the_new_one_work(
    anon, clinician_a, enrolment, django_capture_on_commit_callbacks
):
    invite(client_for(clinician_a), enrolment.patient.id, django_capture_on_commit_callbacks)
    new_code = code_in(mail.outbox[0].body)

    assert activate(anon, enrolment.activation_code).status_code == 400
    assert activate(anon, new_code).status_code == 200


def test_it_sends_nothing_before_commit_and_no_code_through_the_broker(
    clinician_a, enrolment, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        "patients.tasks.send_activation_email.delay", lambda *args: sent.append(args)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(clinician_a).post(f"/api/v1/patients/{enrolment.patient.id}/invite/")
    assert mail.outbox == [] and sent == []

    for callback in callbacks:
        callback()

    assert sent == [(enrolment.patient.id,)]


def test_it_refuses_an_activated_patient(
    anon, clinician_a, enrolment, django_capture_on_commit_callbacks
):
    activate(anon, enrolment.activation_code)

    response = invite(
        client_for(clinician_a), enrolment.patient.id, django_capture_on_commit_callbacks
    )

    assert response.status_code == 400
    assert mail.outbox == []


def test_it_answers_404_for_another_clinics_patient(
    clinician_b, enrolment, django_capture_on_commit_callbacks
):
    response = invite(
        client_for(clinician_b), enrolment.patient.id, django_capture_on_commit_callbacks
    )

    assert response.status_code == 404
    assert mail.outbox == []


def test_it_refuses_staff(staff_a, enrolment, django_capture_on_commit_callbacks):
    response = invite(client_for(staff_a), enrolment.patient.id, django_capture_on_commit_callbacks)

    assert response.status_code == 403


def test_it_is_audited_as_a_change_of_the_patients_data(
    clinician_a, enrolment, django_capture_on_commit_callbacks
):
    invite(client_for(clinician_a), enrolment.patient.id, django_capture_on_commit_callbacks)

    entry = AuditEntry.objects.get(patient_id=enrolment.patient.id)
    assert (entry.actor, entry.action) == (clinician_a, "update")
