"""A clinician's or staff member's web session ends after SESSION_IDLE_MINUTES without a
request and SESSION_MAX_HOURS after sign-in, says so, and leads back to where they were."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from clinic.models import SignIn
from tests.conftest import web_signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

START = "2026-05-01T09:00:00Z"


def test_a_session_left_idle_for_fifteen_minutes_ends_and_says_why(clinician_a):
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(clinician_a)
        clock.shift(timedelta(minutes=15, seconds=1))

        response = browser.get("/staff/?q=moss&ordering=name", follow=True)

    assert response.redirect_chain[0][0].startswith("/staff/login/?next=")
    assert "Nothing happened for 15 minutes" in response.content.decode()
    assert response.context["user"].is_anonymous


def test_signing_in_again_returns_to_the_page_and_its_query(clinician_a):
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(clinician_a)
        clock.shift(timedelta(minutes=20))
        ended = browser.get("/staff/?q=moss&ordering=name")

        again = browser.post(
            ended["Location"], {"username": clinician_a.username, "password": PASSWORD}
        )

    assert again.status_code == 302
    assert again["Location"] == "/staff/?q=moss&ordering=name"


def test_a_form_sent_after_the_session_ended_returns_to_the_page_it_was_sent_from(
    clinician_a, patient_a
):
    page = f"/staff/patients/{patient_a.id}/prescribe/"
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(clinician_a)
        clock.shift(timedelta(minutes=20))

        response = browser.post(
            page, {"start_date": "2026-05-01"}, HTTP_REFERER=f"http://testserver{page}"
        )

    assert response.status_code == 302
    assert (
        response["Location"]
        == f"/staff/login/?next=%2Fstaff%2Fpatients%2F{patient_a.id}%2Fprescribe%2F"
    )


def test_requests_within_the_idle_limit_keep_the_session_going(clinician_a):
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(clinician_a)
        for _ in range(6):
            clock.shift(timedelta(minutes=10))
            assert browser.get("/staff/").status_code == 200


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(clinician_a):
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(clinician_a)
        for _ in range(12 * 6 - 1):
            clock.shift(timedelta(minutes=10))
            browser.get("/staff/account/")
        assert browser.get("/staff/").status_code == 200
        clock.shift(timedelta(minutes=11))

        response = browser.get("/staff/", follow=True)

    assert "You were signed in for 12 hours" in response.content.decode()
    assert SignIn.objects.get(user=clinician_a, kind="session").ended_at is not None


def test_the_limits_follow_the_settings(clinician_a, settings):
    settings.SESSION_IDLE_MINUTES = 5
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(clinician_a)
        clock.shift(timedelta(minutes=5, seconds=1))

        assert browser.get("/staff/")["Location"].startswith("/staff/login/")


def test_a_patients_session_has_no_idle_limit(patient_a):
    patient_a.user.set_password(PASSWORD)
    patient_a.user.save()
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(patient_a.user)
        clock.shift(timedelta(hours=3))

        assert browser.get("/my/").status_code == 200


def test_an_ended_session_is_gone_from_the_database_too(clinician_a):
    """Not only the cookie: the session row the browser held no longer lets anyone in."""
    with time_machine.travel(START, tick=False) as clock:
        browser = web_signed_in(clinician_a)
        cookie = browser.cookies["sessionid"].value
        clock.shift(timedelta(minutes=16))
        browser.get("/staff/")
        thief = Client()
        thief.cookies["sessionid"] = cookie

        assert thief.get("/staff/")["Location"].startswith("/staff/login/")
