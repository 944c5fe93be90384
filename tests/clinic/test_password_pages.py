"""The password pages: "forgot your password?" for the clinic team (/staff/password-reset/)
and patients (/my/password-reset/), the emailed link (/reset/{uid}/{token}/), and the
account page's change of password."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from clinic.models import SecurityEvent
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "swaying-knees-at-dawn"
LINK = re.compile(r"http://testserver(?P<path>/reset/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/)")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def ask(client, email, area="staff"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(f"/{area}/password-reset/", {"email": email})


def emailed_link(email, area="staff") -> dict:
    mail.outbox.clear()
    ask(Client(), email, area)
    (message,) = mail.outbox
    return LINK.search(message.body).groupdict()


def open_link(client, link):
    """Opens the emailed link as a browser does: the token goes, the page stays."""
    return client.get(link["path"], follow=True)


def set_password(client, link, password=NEW_PASSWORD, again=None):
    open_link(client, link)
    return client.post(
        f"/reset/{link['uid']}/set-password/",
        {"new_password": password, "new_password_again": again or password},
    )


def web_sign_in(user, password=PASSWORD) -> Client:
    client = Client()
    if user.is_patient:
        client.post("/my/login/", {"email": user.username, "password": password})
    else:
        client.post("/staff/login/", {"username": user.username, "password": password})
    return client


def signed_in(client, area="staff") -> bool:
    return client.get(f"/{area}/account/").status_code == 200


# --- Forgot your password? -------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "reset"),
    [("/staff/login/", "/staff/password-reset/"), ("/my/login/", "/my/password-reset/")],
)
def test_it_offers_a_reset_on_each_sign_in_page(client, login, reset):
    page = client.get(login).content.decode()

    assert f'href="{reset}"' in page
    assert "Forgot your password?" in page
    form = client.get(reset)
    assert form.status_code == 200
    assert '<label for="id_email">Email address</label>' in form.content.decode()


def test_it_answers_the_same_for_a_known_and_an_unknown_address(client, clinician_a):
    known = ask(client, clinician_a.email)
    unknown = ask(client, "nobody-here@example.test")

    assert known.status_code == unknown.status_code == 200
    assert CSRF.sub("", known.content.decode()) == CSRF.sub("", unknown.content.decode())
    assert "If this address belongs to an account" in known.content.decode()


def test_it_emails_only_the_owner_of_the_address(client, patient_a, clinician_a):
    ask(client, patient_a.user.email, area="my")
    ask(client, "nobody-here@example.test", area="my")

    (message,) = mail.outbox
    assert message.to == [patient_a.user.email]
    assert "http://testserver/reset/" in message.body


def test_it_refuses_an_address_that_is_not_one(client):
    response = client.post("/staff/password-reset/", {"email": "not an address"})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_it_shares_the_apis_budget_per_client_address(monkeypatch, clinician_a):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "password_reset": "2/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    APIClient().post("/api/v1/auth/password-reset/", {"email": "someone@example.test"})
    ask(Client(), "someone-else@example.test")

    refused = ask(Client(), clinician_a.email)

    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert mail.outbox == []


def test_it_shares_the_apis_limit_per_email_address(settings, clinician_a):
    settings.PASSWORD_RESET_EMAILS_PER_HOUR = 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        APIClient().post("/api/v1/auth/password-reset/", {"email": clinician_a.email})

    again = ask(Client(REMOTE_ADDR="198.51.100.7"), clinician_a.email)

    assert again.status_code == 200
    assert "If this address belongs to an account" in again.content.decode()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("path", ["/staff/password-reset/", "/my/password-reset/"])
def test_it_answers_an_empty_form_with_its_errors_even_when_throttled(client, monkeypatch, path):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "password_reset": "1/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    assert client.post(path, {}).status_code == 400
    assert client.post(path, {}).status_code == 429


# --- The emailed link ---------------------------------------------------------------------


def test_it_takes_the_token_out_of_the_address_at_once(client, clinician_a):
    link = emailed_link(clinician_a.email)

    response = client.get(link["path"])

    assert response.status_code == 302
    assert response["Location"] == f"/reset/{link['uid']}/set-password/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert link["token"] not in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert '<label for="id_new_password_again">New password again</label>' in page.content.decode()


def test_it_sets_the_new_password_and_leads_to_the_team_sign_in(client, clinician_a):
    response = set_password(client, emailed_link(clinician_a.email))

    assert response.status_code == 302
    assert response["Location"] == "/staff/login/"
    login = client.get("/staff/login/").content.decode()
    assert "every phone and computer" in login
    assert signed_in(web_sign_in(clinician_a, NEW_PASSWORD))
    assert not signed_in(web_sign_in(clinician_a, PASSWORD))


def test_it_leads_a_patient_to_their_own_sign_in(client, patient_a):
    response = set_password(client, emailed_link(patient_a.user.email, area="my"))

    assert response["Location"] == "/my/login/"
    assert "every phone and computer" in client.get("/my/login/").content.decode()
    assert signed_in(web_sign_in(patient_a.user, NEW_PASSWORD), area="my")


def test_it_signs_the_user_out_everywhere(client, staff_a):
    laptop, phone = web_sign_in(staff_a), client_for(staff_a)
    assert signed_in(laptop)

    set_password(client, emailed_link(staff_a.email))

    assert not signed_in(laptop)
    assert phone.get("/api/v1/me/").status_code == 401


def test_it_asks_for_the_same_password_twice(client, clinician_a):
    link = emailed_link(clinician_a.email)

    response = set_password(client, link, again="swaying-knees-at-dusk")

    assert response.status_code == 400
    assert "not the same" in response.content.decode()
    assert set_password(client, link).status_code == 302, "the link still works"


def test_it_refuses_a_weak_password(client, clinician_a):
    response = set_password(client, emailed_link(clinician_a.email), password="1234567890")

    assert response.status_code == 400
    assert 'id="id_new_password-errors"' in response.content.decode()
    assert signed_in(web_sign_in(clinician_a))


def test_it_says_clearly_when_a_link_was_used(client, clinician_a):
    link = emailed_link(clinician_a.email)
    set_password(client, link)

    page = open_link(Client(), link)

    assert page.status_code == 200
    assert "This link no longer works" in page.content.decode()
    assert 'href="/staff/password-reset/"' in page.content.decode()
    assert 'href="/my/password-reset/"' in page.content.decode()


def test_it_says_clearly_when_a_link_ran_out(clinician_a):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        link = emailed_link(clinician_a.email)
        clock.shift(timedelta(minutes=61))
        page = open_link(Client(), link)

    assert "This link no longer works" in page.content.decode()


def test_it_logs_a_reset_by_the_page_once(client, clinician_a):
    set_password(client, emailed_link(clinician_a.email))

    assert SecurityEvent.objects.filter(event="password_reset_requested").count() == 1
    (event,) = SecurityEvent.objects.filter(event="password_reset")
    assert event.user == clinician_a
    assert event.details == {"way": "web"}


# --- The account page -------------------------------------------------------------------


def change(client, old=PASSWORD, new=NEW_PASSWORD, again=None, area="staff"):
    return client.post(
        f"/{area}/account/password/",
        {"old_password": old, "new_password": new, "new_password_again": again or new},
    )


def test_it_shows_the_change_form_on_the_account_page(clinician_a):
    page = web_sign_in(clinician_a).get("/staff/account/").content.decode()

    assert 'action="/staff/account/password/"' in page
    for label in ("Current password", "New password", "New password again"):
        assert f">{label}</label>" in page


def test_it_changes_the_password_and_keeps_this_browser_signed_in(clinician_a):
    this, other = web_sign_in(clinician_a), web_sign_in(clinician_a)
    token = client_for(clinician_a)

    response = change(this)

    assert response.status_code == 302
    assert response["Location"] == "/staff/account/#password"
    assert "Your password is changed" in this.get("/staff/account/").content.decode()
    assert not signed_in(other)
    assert token.get("/api/v1/me/").status_code == 401
    assert signed_in(web_sign_in(clinician_a, NEW_PASSWORD))


def test_it_keeps_the_sign_in_list_true_to_this_browser(clinician_a):
    this = web_sign_in(clinician_a)

    change(this)

    page = this.get("/staff/account/")
    assert page.context["current_sign_in"] in [s.id for s in page.context["sign_ins"]]


def test_it_changes_a_patients_password_on_their_page(patient_a):
    this = web_sign_in(patient_a.user)

    response = change(this, area="my")

    assert response["Location"] == "/my/account/#password"
    assert "Your password is changed" in this.get("/my/account/").content.decode()


def test_it_refuses_a_wrong_current_password_on_the_page(clinician_a):
    this = web_sign_in(clinician_a)

    response = change(this, old="not-my-password")

    assert response.status_code == 400
    assert "This is not your current password." in response.content.decode()
    assert signed_in(web_sign_in(clinician_a))


def test_it_refuses_two_different_new_passwords_on_the_page(clinician_a):
    response = change(web_sign_in(clinician_a), again="something-else-entirely")

    assert response.status_code == 400
    assert "not the same" in response.content.decode()
    assert signed_in(web_sign_in(clinician_a))


def test_it_sends_a_stranger_to_sign_in(client):
    response = change(client)

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_it_logs_a_change_by_the_page_once(clinician_a):
    this = web_sign_in(clinician_a)
    change(this, old="not-my-password")
    change(this)

    (event,) = SecurityEvent.objects.filter(event="password_changed")
    assert event.details == {"way": "web"}
