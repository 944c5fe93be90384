from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from clinic import security_log
from clinic.models import SecurityEvent
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_lists_the_clinics_log_newest_first(anon, clinician_a, staff_a):
    anon.post("/api/v1/auth/token/", {"username": staff_a.username, "password": "wrong"})
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        anon.post("/api/v1/auth/token/", {"username": staff_a.username, "password": PASSWORD})
        client = client_for(clinician_a)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        client.patch(f"/api/v1/team/{staff_a.id}/", {"is_active": False})
        response = client.get("/api/v1/team/events/")

    assert response.status_code == 200
    rows = response.data["results"]
    assert [row["event"] for row in rows] == ["deactivated", "sign_in", "sign_in_failed"]
    assert set(rows[0]) >= {"at", "event", "user", "username_tried", "actor", "address", "details"}
    assert (rows[0]["user"], rows[0]["actor"]) == (staff_a.id, clinician_a.id)
    assert rows[2]["username_tried"] == staff_a.username
    assert rows[2]["address"] == "127.0.0.1"


def test_it_pages_the_log(clinician_a):
    for _ in range(25):
        security_log.record(security_log.Event.SIGN_IN, user=clinician_a)

    page = client_for(clinician_a).get("/api/v1/team/events/", {"page_size": 10}).data

    assert page["count"] == 25
    assert len(page["results"]) == 10
    assert page["next"]


def test_it_shows_no_other_clinics_entries(clinician_a, clinician_b):
    security_log.record(security_log.Event.SIGN_IN, user=clinician_b)

    rows = client_for(clinician_a).get("/api/v1/team/events/").data["results"]

    assert rows == []
    assert SecurityEvent.objects.count() == 1


def test_it_keeps_staff_and_patients_out(staff_a, patient_a):
    assert client_for(staff_a).get("/api/v1/team/events/").status_code == 403
    assert client_for(patient_a.user).get("/api/v1/team/events/").status_code == 403


def test_it_offers_no_way_to_change_an_entry(clinician_a):
    client = client_for(clinician_a)

    assert client.post("/api/v1/team/events/", {}).status_code == 405
    assert client.delete("/api/v1/team/events/").status_code == 405


def test_the_team_changes_carry_the_address_they_came_from(clinician_a, staff_a):
    doctor = client_for(clinician_a)
    doctor.patch(f"/api/v1/team/{staff_a.id}/", {"is_active": False}, REMOTE_ADDR="203.0.113.4")
    doctor.patch("/api/v1/clinic/", {"require_second_factor": True}, REMOTE_ADDR="203.0.113.4")

    deactivated = SecurityEvent.objects.get(event="deactivated")
    changed = SecurityEvent.objects.get(event="clinic_changed")
    assert deactivated.address == changed.address == "203.0.113.4"
    assert changed.actor == clinician_a
    assert changed.details == {"changes": {"require_second_factor": [False, True]}}
