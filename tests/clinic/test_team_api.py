from functools import partial

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import team
from clinic.models import AuditEntry, SecurityEvent, User
from tests.concurrency import at_once
from tests.conftest import client_for, signed_in
from tests.factories import PASSWORD, ClinicianFactory, StaffFactory

pytestmark = pytest.mark.django_db

INVITE = {
    "email": "Rae.Quinn@Example.test",
    "first_name": "Rae",
    "last_name": "Quinn",
    "role": "staff",
}


def invite(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/api/v1/team/", {**INVITE, **changes})


def events(kind):
    return list(SecurityEvent.objects.filter(event=kind))


# --- the list ------------------------------------------------------------------------------


def test_it_lists_the_clinics_clinicians_and_staff_but_no_patient(
    clinician_a, staff_a, patient_a, clinician_b
):
    response = client_for(staff_a).get("/api/v1/team/")

    assert response.status_code == 200
    by_name = {m["username"]: m for m in response.data["results"]}
    assert set(by_name) == {clinician_a.username, staff_a.username}
    assert set(by_name[staff_a.username]) == {
        "id",
        "username",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "second_factor",
        "last_sign_in",
    }
    assert by_name[staff_a.username]["role"] == "staff"
    assert by_name[clinician_a.username]["is_active"] is True


def test_it_says_who_confirmed_a_second_factor(clinician_a, staff_a):
    TOTPDevice.objects.create(user=staff_a, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=clinician_a, name="phone", confirmed=False)

    results = client_for(clinician_a).get("/api/v1/team/").data["results"]

    second = {m["username"]: m["second_factor"] for m in results}
    assert second == {staff_a.username: True, clinician_a.username: False}


def test_it_shows_the_last_sign_in(clinician_a, staff_a):
    client_for(clinician_a).post(
        "/api/v1/auth/token/", {"username": staff_a.username, "password": PASSWORD}
    )

    results = client_for(clinician_a).get("/api/v1/team/").data["results"]

    last = {m["username"]: m["last_sign_in"] for m in results}
    assert last[staff_a.username] is not None


def test_it_reads_the_team_in_the_same_number_of_queries_for_2_and_20_members(
    clinic_a, clinician_a
):
    client = client_for(clinician_a)
    client.get("/api/v1/team/")  # the token's first use is written once

    def queries_for_team_of(size: int) -> int:
        while User.objects.filter(clinic=clinic_a).count() < size:
            member = StaffFactory(clinic=clinic_a)
            TOTPDevice.objects.create(user=member, name="phone", confirmed=member.id % 2 == 0)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/team/", {"page_size": 100})
        assert response.data["count"] == size
        return len(queries)

    assert queries_for_team_of(2) == queries_for_team_of(20)


# --- inviting ----------------------------------------------------------------------------


def test_it_invites_someone_by_email_with_a_link_to_join(
    clinician_a, django_capture_on_commit_callbacks
):
    response = invite(client_for(clinician_a), django_capture_on_commit_callbacks)

    assert response.status_code == 201
    assert response.data["email"] == "rae.quinn@example.test"
    assert response.data["role"] == "staff"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rae.quinn@example.test"]
    assert "http://testserver/join/" in message.body
    assert clinician_a.clinic.name in message.body
    assert "72 hours" in message.body


def test_it_sends_the_email_only_once_the_invitation_is_stored(
    clinician_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(clinician_a).post("/api/v1/team/", INVITE)

    assert mail.outbox == []
    assert len(callbacks) == 1


@pytest.mark.parametrize("taken", ["dr.a@example.test", "DR.A@example.test", "patient"])
def test_it_refuses_an_email_already_in_use(
    clinician_a, patient_a, clinician_b, taken, django_capture_on_commit_callbacks
):
    email = patient_a.email if taken == "patient" else taken

    response = invite(client_for(clinician_b), django_capture_on_commit_callbacks, email=email)

    assert response.status_code == 400
    assert "email" in response.data
    assert mail.outbox == []


def test_it_refuses_a_role_that_is_not_of_the_team(clinician_a, django_capture_on_commit_callbacks):
    response = invite(client_for(clinician_a), django_capture_on_commit_callbacks, role="patient")

    assert response.status_code == 400
    assert "role" in response.data


def test_it_logs_one_invited_entry(clinician_a, django_capture_on_commit_callbacks):
    invite(client_for(clinician_a), django_capture_on_commit_callbacks)

    [entry] = events("invited")
    assert entry.actor == clinician_a
    assert entry.clinic_id == clinician_a.clinic_id
    assert entry.details["role"] == "staff"


def test_it_lets_staff_read_the_team_but_not_invite(staff_a, django_capture_on_commit_callbacks):
    client = client_for(staff_a)

    assert client.get("/api/v1/team/").status_code == 200
    assert invite(client, django_capture_on_commit_callbacks).status_code == 403
    assert mail.outbox == []


# --- changing a member -------------------------------------------------------------------


def test_it_changes_a_members_role_and_logs_it(clinician_a, staff_a):
    response = client_for(clinician_a).patch(f"/api/v1/team/{staff_a.id}/", {"role": "clinician"})

    assert response.status_code == 200
    assert response.data["role"] == "clinician"
    staff_a.refresh_from_db()
    assert staff_a.role == "clinician"
    [entry] = events("role_changed")
    assert (entry.user, entry.actor) == (staff_a, clinician_a)
    assert entry.details == {"before": "staff", "after": "clinician"}


def test_it_deactivates_a_member_whose_token_stops_working_at_once(clinician_a, staff_a):
    their_client = client_for(staff_a)
    assert their_client.get("/api/v1/team/").status_code == 200

    response = client_for(clinician_a).patch(f"/api/v1/team/{staff_a.id}/", {"is_active": False})

    assert response.status_code == 200
    assert response.data["is_active"] is False
    assert their_client.get("/api/v1/team/").status_code == 401
    [entry] = events("deactivated")
    assert (entry.user, entry.actor) == (staff_a, clinician_a)


def test_it_sends_a_deactivated_members_open_page_to_the_sign_in_page(clinician_a, staff_a):
    browser = signed_in(staff_a)
    assert browser.get("/staff/").status_code == 200

    client_for(clinician_a).patch(f"/api/v1/team/{staff_a.id}/", {"is_active": False})

    response = browser.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_it_keeps_a_deactivated_member_from_signing_in(anon, clinician_a, staff_a):
    client_for(clinician_a).patch(f"/api/v1/team/{staff_a.id}/", {"is_active": False})

    response = anon.post(
        "/api/v1/auth/token/", {"username": staff_a.username, "password": PASSWORD}
    )

    assert response.status_code == 400
    assert "token" not in response.data


def test_it_keeps_what_a_deactivated_member_did(clinician_a, patient_a):
    colleague = ClinicianFactory(clinic=clinician_a.clinic)
    client_for(colleague).get(f"/api/v1/patients/{patient_a.id}/")
    assert AuditEntry.objects.filter(actor=colleague).count() == 1

    client_for(clinician_a).patch(f"/api/v1/team/{colleague.id}/", {"is_active": False})

    assert AuditEntry.objects.filter(actor=colleague).count() == 1
    audit = client_for(clinician_a).get(f"/api/v1/patients/{patient_a.id}/audit/").data
    assert colleague.id in [entry["actor"] for entry in audit["results"]]


def test_it_reactivates_a_member_who_can_then_sign_in(anon, clinician_a, staff_a):
    client = client_for(clinician_a)
    client.patch(f"/api/v1/team/{staff_a.id}/", {"is_active": False})

    response = client.patch(f"/api/v1/team/{staff_a.id}/", {"is_active": True})

    assert response.status_code == 200
    assert len(events("reactivated")) == 1
    signed = anon.post("/api/v1/auth/token/", {"username": staff_a.username, "password": PASSWORD})
    assert signed.status_code == 200


def test_it_logs_nothing_when_nothing_changes(clinician_a, staff_a):
    client_for(clinician_a).patch(
        f"/api/v1/team/{staff_a.id}/", {"role": "staff", "is_active": True}
    )

    assert SecurityEvent.objects.exclude(event="sign_in").count() == 0


def test_it_refuses_to_let_a_clinician_deactivate_themselves(clinician_a):
    ClinicianFactory(clinic=clinician_a.clinic)

    response = client_for(clinician_a).patch(
        f"/api/v1/team/{clinician_a.id}/", {"is_active": False}
    )

    assert response.status_code == 400
    assert "is_active" in response.data
    clinician_a.refresh_from_db()
    assert clinician_a.is_active


def test_it_keeps_the_last_active_clinician_from_being_demoted(clinician_a, staff_a):
    response = client_for(clinician_a).patch(f"/api/v1/team/{clinician_a.id}/", {"role": "staff"})

    assert response.status_code == 400
    assert "role" in response.data
    clinician_a.refresh_from_db()
    assert clinician_a.role == "clinician"
    assert events("role_changed") == []


def test_it_counts_only_active_clinicians_as_the_ones_left(clinician_a):
    ClinicianFactory(clinic=clinician_a.clinic, is_active=False)

    response = client_for(clinician_a).patch(f"/api/v1/team/{clinician_a.id}/", {"role": "staff"})

    assert response.status_code == 400
    assert "role" in response.data


def test_it_lets_a_clinician_step_down_when_another_remains(clinician_a):
    ClinicianFactory(clinic=clinician_a.clinic)

    response = client_for(clinician_a).patch(f"/api/v1/team/{clinician_a.id}/", {"role": "staff"})

    assert response.status_code == 200
    assert response.data["role"] == "staff"


def test_it_lets_one_of_two_clinicians_deactivate_the_other_but_not_then_be_left_alone(
    clinician_a,
):
    other = ClinicianFactory(clinic=clinician_a.clinic)

    assert (
        client_for(clinician_a).patch(f"/api/v1/team/{other.id}/", {"is_active": False}).status_code
        == 200
    )
    # The one left cannot step down now.
    response = client_for(clinician_a).patch(f"/api/v1/team/{clinician_a.id}/", {"role": "staff"})
    assert response.status_code == 400


def test_it_answers_404_for_another_clinics_member(clinician_a, clinician_b):
    response = client_for(clinician_a).patch(
        f"/api/v1/team/{clinician_b.id}/", {"is_active": False}
    )

    assert response.status_code == 404
    clinician_b.refresh_from_db()
    assert clinician_b.is_active


def test_it_answers_404_for_a_patient(clinician_a, patient_a):
    response = client_for(clinician_a).patch(
        f"/api/v1/team/{patient_a.user.id}/", {"is_active": False}
    )

    assert response.status_code == 404
    assert User.objects.get(id=patient_a.user.id).is_active


def test_it_refuses_staff_changing_a_member(staff_a, clinician_a):
    response = client_for(staff_a).patch(f"/api/v1/team/{clinician_a.id}/", {"role": "staff"})

    assert response.status_code == 403


@pytest.mark.parametrize("body", [{"role": "patient"}, {"is_active": "no"}, {"username": "x"}])
def test_it_refuses_bad_input_naming_the_field(clinician_a, staff_a, body):
    response = client_for(clinician_a).patch(f"/api/v1/team/{staff_a.id}/", body)

    assert response.status_code == 400
    assert set(response.data) == set(body)


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; the race needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_it_leaves_a_clinician_when_two_demote_each_other_at_once(clinician_a):
    other = ClinicianFactory(clinic=clinician_a.clinic)
    answers = at_once(
        partial(team.member_update, member=other, by=clinician_a, role="staff"),
        partial(team.member_update, member=clinician_a, by=other, role="staff"),
    )
    # One of them may be refused (the last clinician must stay), never fail otherwise.
    errors = [a for a in answers if isinstance(a, Exception)]
    assert all(isinstance(e, ValidationError) for e in errors), errors

    assert User.objects.filter(clinic=clinician_a.clinic, role="clinician").count() == 1
    assert SecurityEvent.objects.filter(event="role_changed").count() == 1
