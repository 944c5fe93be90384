import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from clinic import security_log
from clinic.models import Invitation, SecurityEvent, User
from tests.conftest import client_for, signed_in
from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db

PASSWORD = "rock-gently-each-night"
INVITE = {"first_name": "Rae", "last_name": "Quinn", "email": "rae@example.test", "role": "staff"}


def token_in(body: str) -> str:
    return re.search(r"http://testserver/join/([^/\s]+)/", body).group(1)


@pytest.fixture
def invited(clinician_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(clinician_a).post("/staff/team/invite/", INVITE)
    return token_in(mail.outbox[-1].body)


# --- the team's page -------------------------------------------------------------------------


def test_it_lists_the_members_with_role_second_factor_and_last_sign_in(
    clinician_a, staff_a, patient_a
):
    clinician_a.last_login = datetime(2026, 12, 7, 19, 5, tzinfo=UTC)
    clinician_a.save()
    ClinicianFactory(clinic=clinician_a.clinic, username="new.one@example.test")

    page = signed_in(staff_a).get("/staff/team/").content.decode()

    assert staff_a.username in page and clinician_a.username in page
    assert patient_a.email not in page
    assert "19:05" not in page
    assert "14:05 New York time" in page  # the clinic's zone, named
    assert "Never" in page  # the one who never signed in


def test_it_shows_staff_the_list_without_any_button_or_the_log(staff_a, clinician_a):
    page = signed_in(staff_a).get("/staff/team/").content.decode()

    assert "Invite someone" not in page
    assert "Deactivate" not in page
    assert "Change role" not in page
    assert "Security log" not in page


def test_it_shows_clinicians_the_forms_and_the_log(clinician_a, staff_a):
    page = signed_in(clinician_a).get("/staff/team/").content.decode()

    assert "Invite someone" in page
    assert f"/staff/team/{staff_a.id}/deactivate/" in page
    assert f"/staff/team/{clinician_a.id}/deactivate/" not in page  # not themselves
    assert "Require a second factor" in page
    assert "Security log" in page


def test_it_pages_the_security_log(clinician_a):
    for n in range(45):
        security_log.record(
            security_log.Event.SIGN_IN_FAILED, username_tried=f"guess{n}", actor=clinician_a
        )
    client = signed_in(clinician_a)

    first = client.get("/staff/team/").content.decode()
    third = client.get("/staff/team/", {"page": 3}).content.decode()

    assert "guess44" in first and "guess0" not in first
    assert "guess0" in third and "guess44" not in third
    assert client.get("/staff/team/", {"page": "x"}).status_code == 200


def test_it_keeps_patients_and_strangers_out(patient_a, client):
    assert signed_in(patient_a.user).get("/staff/team/").status_code == 302
    assert client.get("/staff/team/").status_code == 302


# --- inviting and joining ----------------------------------------------------------------


def test_it_invites_from_the_page(clinician_a, invited):
    [message] = mail.outbox
    assert message.to == ["rae@example.test"]
    assert Invitation.objects.get().role == "staff"


def test_it_shows_the_invite_forms_errors(clinician_a, staff_a):
    response = signed_in(clinician_a).post(
        "/staff/team/invite/", {**INVITE, "email": staff_a.username}
    )

    assert response.status_code == 400
    assert "already in use" in response.content.decode()
    assert mail.outbox == []


def test_it_refuses_staff_inviting(staff_a):
    assert signed_in(staff_a).post("/staff/team/invite/", INVITE).status_code == 403


def opened(client, token: str):
    """The invited person's browser after opening the emailed link."""
    client.get(f"/join/{token}/")
    return client


def test_the_link_leads_to_a_page_without_the_token_in_its_address(invited, client):
    response = client.get(f"/join/{invited}/")

    assert response.status_code == 302
    assert response["Location"] == "/join/"


def test_it_shows_the_invited_person_the_clinic_and_role(clinician_a, invited, client):
    response = client.get(f"/join/{invited}/", follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Join Riverside Back Clinic" in page
    assert "a staff member" in page
    assert "no-store" in response["Cache-Control"]


def test_it_signs_the_new_member_in_once_they_choose_a_password(clinician_a, invited, client):
    response = opened(client, invited).post(
        "/join/", {"password": PASSWORD, "password_again": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    member = User.objects.get(username="rae@example.test")
    assert (member.role, member.clinic_id) == ("staff", clinician_a.clinic_id)
    assert SecurityEvent.objects.filter(event="joined", user=member).count() == 1


def test_it_asks_for_the_same_password_twice(invited, client):
    response = opened(client, invited).post(
        "/join/", {"password": PASSWORD, "password_again": PASSWORD + "x"}
    )

    assert response.status_code == 400
    assert "not the same" in response.content.decode()
    assert not User.objects.filter(username="rae@example.test").exists()


def test_it_refuses_a_weak_password(invited, client):
    response = opened(client, invited).post(
        "/join/", {"password": "short", "password_again": "short"}
    )

    assert response.status_code == 400
    assert not User.objects.filter(username="rae@example.test").exists()


def test_it_refuses_a_link_used_once_already(invited, client):
    opened(client, invited).post("/join/", {"password": PASSWORD, "password_again": PASSWORD})

    response = client.get(f"/join/{invited}/", follow=True)

    assert response.status_code == 404
    assert "no longer works" in response.content.decode()


def test_it_refuses_a_link_after_72_hours(invited, client):
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        response = opened(client, invited).post(
            "/join/", {"password": PASSWORD, "password_again": PASSWORD}
        )

    assert response.status_code == 404
    assert not User.objects.filter(username="rae@example.test").exists()


# --- changing members ----------------------------------------------------------------------


def test_it_changes_a_role_from_the_page(clinician_a, staff_a):
    response = signed_in(clinician_a).post(f"/staff/team/{staff_a.id}/role/", {"role": "clinician"})

    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.role == "clinician"


def test_it_asks_before_deactivating(clinician_a, staff_a):
    client = signed_in(clinician_a)

    confirm = client.get(f"/staff/team/{staff_a.id}/deactivate/")

    assert confirm.status_code == 200
    assert "signed out everywhere" in confirm.content.decode()
    staff_a.refresh_from_db()
    assert staff_a.is_active


def test_it_deactivates_and_the_members_open_page_goes_to_sign_in(clinician_a, staff_a):
    their_browser = signed_in(staff_a)
    their_app = client_for(staff_a)
    assert their_browser.get("/staff/").status_code == 200

    signed_in(clinician_a).post(f"/staff/team/{staff_a.id}/deactivate/")

    response = their_browser.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")
    assert their_app.get("/api/v1/me/").status_code == 401
    assert SecurityEvent.objects.filter(event="deactivated").count() == 1


def test_it_reactivates_from_the_page(clinician_a, staff_a):
    client = signed_in(clinician_a)
    client.post(f"/staff/team/{staff_a.id}/deactivate/")

    client.post(f"/staff/team/{staff_a.id}/reactivate/")

    staff_a.refresh_from_db()
    assert staff_a.is_active
    assert SecurityEvent.objects.filter(event="reactivated").count() == 1


def test_it_says_why_the_last_clinician_cannot_step_down(clinician_a):
    client = signed_in(clinician_a)

    response = client.post(f"/staff/team/{clinician_a.id}/role/", {"role": "staff"}, follow=True)

    assert "at least one active clinician" in response.content.decode()
    clinician_a.refresh_from_db()
    assert clinician_a.role == "clinician"


def test_it_refuses_a_clinician_deactivating_themselves(clinician_a):
    ClinicianFactory(clinic=clinician_a.clinic)

    response = signed_in(clinician_a).post(f"/staff/team/{clinician_a.id}/deactivate/", follow=True)

    assert "cannot" in response.content.decode()
    clinician_a.refresh_from_db()
    assert clinician_a.is_active


def test_it_answers_404_for_another_clinics_member_or_a_patient(
    clinician_a, clinician_b, patient_a
):
    client = signed_in(clinician_a)

    assert client.get(f"/staff/team/{clinician_b.id}/deactivate/").status_code == 404
    assert client.post(f"/staff/team/{patient_a.user.id}/deactivate/").status_code == 404
    assert client.post(f"/staff/team/{clinician_b.id}/role/", {"role": "staff"}).status_code == 404


@pytest.mark.parametrize("path", ["role/", "deactivate/", "reactivate/"])
def test_it_refuses_staff_changing_members(staff_a, clinician_a, path):
    response = signed_in(staff_a).post(f"/staff/team/{clinician_a.id}/{path}", {"role": "staff"})

    assert response.status_code == 403


def test_it_switches_the_second_factor_requirement(clinician_a, clinic_a, staff_a):
    response = signed_in(clinician_a).post("/staff/team/settings/", {"require_second_factor": "on"})

    assert response.status_code == 302
    clinic_a.refresh_from_db()
    assert clinic_a.require_second_factor
    assert signed_in(staff_a).post("/staff/team/settings/", {}).status_code == 403
    clinic_a.refresh_from_db()
    assert clinic_a.require_second_factor


def test_the_navigation_leads_to_the_team_and_the_account(staff_a):
    page = signed_in(staff_a).get("/staff/").content.decode()

    assert 'href="/staff/team/"' in page
    assert 'href="/staff/account/"' in page
