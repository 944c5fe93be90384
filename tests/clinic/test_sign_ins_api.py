from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.models import SecurityEvent
from tests.conftest import client_for, web_signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def token_for(user, address="198.51.100.7") -> tuple[APIClient, dict]:
    response = APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.data
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.data['token']}")
    return client, response.data


def test_a_clinicians_token_lasts_twelve_hours_and_a_patients_a_month(clinician_a, patient_a):
    patient_a.user.set_password(PASSWORD)
    patient_a.user.save()
    with time_machine.travel("2026-05-01T09:00:00Z", tick=False):
        _, clinician = token_for(clinician_a)
        _, patient = token_for(patient_a.user)

    assert clinician["expires_at"].startswith("2026-05-01T21:00:00")
    assert patient["expires_at"].startswith("2026-05-31T09:00:00")


def test_a_clinicians_token_stops_working_after_twelve_hours(clinician_a):
    with time_machine.travel("2026-05-01T09:00:00Z", tick=False) as clock:
        client, _ = token_for(clinician_a)
        assert client.get("/api/v1/me/").status_code == 200
        clock.shift(timedelta(hours=12, seconds=1))

        assert client.get("/api/v1/me/").status_code == 401


def test_it_lists_the_callers_tokens_and_sessions_and_marks_this_one(clinician_a, staff_a):
    token_for(clinician_a, address="203.0.113.5")
    laptop, _ = token_for(clinician_a)
    web_signed_in(clinician_a)
    token_for(staff_a)

    rows = laptop.get("/api/v1/auth/tokens/").json()

    assert sorted(row["kind"] for row in rows) == ["session", "token", "token"]
    assert [row["current"] for row in rows].count(True) == 1
    current = next(row for row in rows if row["current"])
    assert current["kind"] == "token"
    assert set(current) == {"id", "kind", "created_at", "last_used_at", "expires_at", "current"}


def test_ending_one_sign_in_stops_only_that_device(clinician_a):
    phone, _ = token_for(clinician_a)
    laptop, _ = token_for(clinician_a)
    browser = web_signed_in(clinician_a)
    rows = laptop.get("/api/v1/auth/tokens/").json()
    phone_row = next(r for r in rows if r["kind"] == "token" and not r["current"])
    session_row = next(r for r in rows if r["kind"] == "session")

    assert laptop.delete(f"/api/v1/auth/tokens/{phone_row['id']}/").status_code == 204
    assert laptop.delete(f"/api/v1/auth/tokens/{session_row['id']}/").status_code == 204

    assert phone.get("/api/v1/me/").status_code == 401
    assert browser.get("/staff/").status_code == 302
    assert laptop.get("/api/v1/me/").status_code == 200
    assert len(laptop.get("/api/v1/auth/tokens/").json()) == 1


def test_another_users_sign_in_is_a_404_and_stays(clinician_a, staff_a):
    staff, _ = token_for(staff_a)
    theirs = staff.get("/api/v1/auth/tokens/").json()[0]["id"]

    assert client_for(clinician_a).delete(f"/api/v1/auth/tokens/{theirs}/").status_code == 404
    assert staff.get("/api/v1/me/").status_code == 200


def test_logout_all_ends_every_sign_in_this_one_included(clinician_a, staff_a):
    phone, _ = token_for(clinician_a)
    laptop, _ = token_for(clinician_a)
    browser = web_signed_in(clinician_a)
    colleague, _ = token_for(staff_a)

    assert laptop.post("/api/v1/auth/logout-all/").status_code == 204

    assert phone.get("/api/v1/me/").status_code == 401
    assert laptop.get("/api/v1/me/").status_code == 401
    assert browser.get("/staff/").status_code == 302
    assert colleague.get("/api/v1/me/").status_code == 200
    events = SecurityEvent.objects.filter(event="signed_out_everywhere", user=clinician_a)
    assert events.count() == 1


def test_each_sign_in_writes_one_security_event_with_its_address(clinician_a):
    token_for(clinician_a, address="203.0.113.5")
    web_signed_in(clinician_a)

    events = list(SecurityEvent.objects.filter(event="sign_in").order_by("id"))
    assert [(e.user, e.address, e.details["way"]) for e in events] == [
        (clinician_a, "203.0.113.5", "api"),
        (clinician_a, "127.0.0.1", "web"),
    ]
    clinician_a.refresh_from_db()
    assert clinician_a.last_login is not None


def test_a_tokens_last_use_is_noted_to_the_minute_without_a_write_per_request(clinician_a):
    with time_machine.travel("2026-05-01T09:00:00Z", tick=False) as clock:
        client, _ = token_for(clinician_a)
        clock.shift(timedelta(seconds=30))
        with CaptureQueriesContext(connection) as queries:
            rows = client.get("/api/v1/auth/tokens/").json()
        assert rows[0]["last_used_at"].startswith("2026-05-01T09:00:00")
        assert not [q for q in queries if q["sql"].startswith("UPDATE")]
        clock.shift(timedelta(minutes=2))

        rows = client.get("/api/v1/auth/tokens/").json()

    assert rows[0]["last_used_at"].startswith("2026-05-01T09:02:30")


def test_an_ended_sign_in_no_longer_shows(clinician_a):
    client, _ = token_for(clinician_a)
    other, _ = token_for(clinician_a)
    other.post("/api/v1/auth/logout/")

    assert len(client.get("/api/v1/auth/tokens/").json()) == 1
