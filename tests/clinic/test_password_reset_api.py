"""POST auth/password-reset/ and auth/password-reset/confirm/: a forgotten password, for
every role, by a link emailed to the owner of the address."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from clinic.models import SecurityEvent
from patients.services import patient_enrol
from tests.conftest import client_for
from tests.factories import PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db

RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
NEW_PASSWORD = "swaying-knees-at-dawn"
LINK = re.compile(r"http://testserver/reset/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/")


def ask(email, client=None):
    # The email is queued once the request's transaction commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return (client or APIClient()).post(RESET, {"email": email})


def link_in(message) -> dict:
    return LINK.search(message.body).groupdict()


def emailed_link(email) -> dict:
    mail.outbox.clear()
    assert ask(email).status_code == 202
    (message,) = mail.outbox
    return link_in(message)


def confirm(link, password=NEW_PASSWORD, client=None):
    return (client or APIClient()).post(CONFIRM, {**link, "new_password": password})


def sign_in(username, password):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password})


def events(kind):
    return list(SecurityEvent.objects.filter(event=kind))


# --- Asking for a link -------------------------------------------------------------------


def test_it_answers_the_same_for_a_known_and_an_unknown_address(clinician_a):
    known = ask(clinician_a.email)
    unknown = ask("nobody-here@example.test")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert "detail" in known.json()


def test_it_queues_one_email_task_after_commit_for_a_known_and_an_unknown_address(
    clinician_a, monkeypatch
):
    queued = []
    monkeypatch.setattr("clinic.tasks.send_password_reset.delay", queued.append)
    for email in (clinician_a.email, "nobody-here@example.test"):
        before = list(queued)
        with TestCase.captureOnCommitCallbacks() as callbacks:
            APIClient().post(RESET, {"email": email})
        assert queued == before, "nothing is queued before the commit"
        assert len(callbacks) == 1
        callbacks[0]()

    assert queued == [clinician_a.id, None]


def test_it_emails_only_the_owner_of_the_address(clinician_a, staff_a, patient_a):
    ask(patient_a.user.email.upper())
    ask("nobody-here@example.test")

    (message,) = mail.outbox
    assert message.to == [patient_a.user.email]
    assert LINK.search(message.body)
    assert "one hour" in message.body
    assert "ignore" in message.body


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a", "patient_a"])
def test_it_resets_the_password_of_every_role(request, persona):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    response = confirm(emailed_link(user.email))

    assert response.status_code == 200
    assert sign_in(user.username, NEW_PASSWORD).status_code == 200
    assert sign_in(user.username, PASSWORD).status_code == 400


def test_it_sends_nothing_to_a_deactivated_team_member(clinic_a):
    gone = StaffFactory(clinic=clinic_a, is_active=False)

    assert ask(gone.email).status_code == 202
    assert mail.outbox == []


def test_it_sends_nothing_to_a_patient_not_yet_activated(clinician_a):
    enrolment = patient_enrol(
        clinic=clinician_a.clinic,
        enrolled_by=clinician_a,
        first_name="Noa",
        last_name="Field",
        email="noa@example.test",
    )

    assert ask(enrolment.patient.email).status_code == 202
    assert mail.outbox == []


def test_it_refuses_an_address_that_is_not_one(anon):
    response = ask("not an address", anon)

    assert response.status_code == 400
    assert "email" in response.json()


def test_it_throttles_each_client_address(monkeypatch, clinician_a):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "password_reset": "3/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    here, elsewhere = APIClient(REMOTE_ADDR="203.0.113.9"), APIClient(REMOTE_ADDR="198.51.100.7")

    statuses = [ask(f"someone{n}@example.test", here).status_code for n in range(4)]

    assert statuses == [202, 202, 202, 429]
    assert ask(clinician_a.email, elsewhere).status_code == 202


def test_it_stops_emailing_an_address_asked_about_too_often(settings, clinician_a):
    settings.PASSWORD_RESET_EMAILS_PER_HOUR = 2
    answers = [ask(clinician_a.email, APIClient(REMOTE_ADDR=f"203.0.113.{n}")) for n in range(1, 5)]

    assert [a.status_code for a in answers] == [202] * 4
    assert len({str(a.json()) for a in answers}) == 1
    assert len(mail.outbox) == 2
    assert len(events("password_reset_requested")) == 2


def test_it_emails_the_address_again_an_hour_later(settings, clinician_a):
    settings.PASSWORD_RESET_EMAILS_PER_HOUR = 1
    with time_machine.travel(timezone.now(), tick=False) as clock:
        ask(clinician_a.email)
        ask(clinician_a.email)
        clock.shift(timedelta(minutes=61))
        ask(clinician_a.email)

    assert len(mail.outbox) == 2


def test_it_logs_one_request_per_email_sent(clinician_a):
    APIClient(REMOTE_ADDR="203.0.113.9").post(RESET, {"email": clinician_a.email})
    ask("nobody-here@example.test")

    (event,) = events("password_reset_requested")
    assert event.user == clinician_a
    assert event.address == "203.0.113.9"
    assert event.clinic_id == clinician_a.clinic_id


# --- Setting the password from the link ---------------------------------------------------


def test_it_works_once(clinician_a):
    link = emailed_link(clinician_a.email)

    assert confirm(link).status_code == 200
    again = confirm(link, "another-long-password-9")

    assert again.status_code == 400
    assert "token" in again.json()
    assert sign_in(clinician_a.username, NEW_PASSWORD).status_code == 200


def test_it_works_for_an_hour_and_not_after(clinician_a):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        link = emailed_link(clinician_a.email)
        clock.shift(timedelta(minutes=59))
        assert confirm(link, "password-within-the-hour").status_code == 200

        late = emailed_link(clinician_a.email)
        clock.shift(timedelta(minutes=61))
        response = confirm(late)

    assert response.status_code == 400
    assert "token" in response.json()
    assert sign_in(clinician_a.username, "password-within-the-hour").status_code == 200


@pytest.mark.parametrize("part", ["token", "uid"])
def test_it_refuses_an_altered_link(clinician_a, staff_a, part):
    link = emailed_link(clinician_a.email)
    if part == "token":
        link["token"] = link["token"][:-1] + ("a" if link["token"][-1] != "a" else "b")
    else:  # the uid of someone else, with the clinician's token
        link["uid"] = emailed_link(staff_a.email)["uid"]

    response = confirm(link)

    assert response.status_code == 400
    assert "token" in response.json()
    assert sign_in(clinician_a.username, PASSWORD).status_code == 200


def test_it_refuses_a_weak_password_naming_new_password(clinician_a):
    link = emailed_link(clinician_a.email)

    response = confirm(link, "12345678")

    assert response.status_code == 400
    assert set(response.json()) == {"new_password"}
    assert confirm(link).status_code == 200, "the link still works for a good password"


def test_it_refuses_a_password_like_the_username(clinician_a):
    response = confirm(emailed_link(clinician_a.email), clinician_a.username)

    assert response.status_code == 400
    assert "new_password" in response.json()


def test_it_signs_the_user_out_everywhere(clinician_a, staff_a):
    phone, laptop = client_for(clinician_a), client_for(clinician_a)
    colleague = client_for(staff_a)

    confirm(emailed_link(clinician_a.email))

    assert phone.get("/api/v1/me/").status_code == 401
    assert laptop.get("/api/v1/me/").status_code == 401
    assert colleague.get("/api/v1/me/").status_code == 200


def test_it_refuses_the_link_of_a_user_deactivated_since(clinician_a):
    link = emailed_link(clinician_a.email)
    clinician_a.is_active = False
    clinician_a.save()

    response = confirm(link)

    assert response.status_code == 400
    assert "token" in response.json()


def test_it_logs_the_reset_once(clinician_a):
    link = emailed_link(clinician_a.email)
    confirm(link, client=APIClient(REMOTE_ADDR="198.51.100.7"))
    confirm(link)

    (event,) = events("password_reset")
    assert event.user == clinician_a
    assert event.address == "198.51.100.7"
    assert NEW_PASSWORD not in str(event.details)
    assert link["token"] not in str(event.details)
