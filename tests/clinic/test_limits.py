"""Limits: request bodies, text messages per patient and day, requests per user."""

import os
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import redis
import time_machine
from django.core.cache import caches
from django.core.exceptions import TooManyFilesSent
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from rest_framework.throttling import UserRateThrottle

from prescriptions.models import Reminder
from prescriptions.reminders.deliver import reminders_deliver
from prescriptions.reminders.transports.sms import LIMIT_REACHED as SMS_LIMIT_REACHED
from tests.clinic.test_settings import start_django
from tests.conftest import client_for
from tests.factories import PrescriptionFactory
from tests.prescriptions.reminders_support import scheduled_prescription

pytestmark = pytest.mark.django_db

# --- Request bodies, on every path ------------------------------------------------------


@pytest.mark.parametrize("path", ["/staff/login/", "/my/login/", "/c/not-a-real-link/"])
def test_a_page_refuses_a_body_over_the_limit_before_reading_it(path, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = Client().post(
        path, "username=" + "a" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")  # the product's 413 page
    assert "too large" in response.content.decode()


def test_the_api_refuses_a_body_over_the_limit_with_json(settings, patient_a):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client_for(patient_a.user).post(
        "/api/v1/check-ins/", {"notes": "x" * 2000}, format="json"
    )
    assert response.status_code == 413
    assert "detail" in response.json()


def test_no_page_takes_an_uploaded_file():
    # Refused at the first file, before its content is spooled to disk.
    request = RequestFactory().post(
        "/staff/login/",
        {"username": "a", "upload": SimpleUploadedFile("big.bin", b"x" * 1000)},
    )
    with pytest.raises(TooManyFilesSent):
        request.POST  # noqa: B018  (parsing is what refuses it)


# --- Text messages per patient and local date -------------------------------------------

FIRE_AT = datetime(2024, 6, 3, 11, 0, tzinfo=UTC)  # 07:00 in New York
DAY = date(2024, 6, 3)


@pytest.fixture
def texting(settings):
    settings.SMS_DAILY_LIMIT_PER_PATIENT = 2
    with time_machine.travel(FIRE_AT - timedelta(hours=8), tick=False):
        first = scheduled_prescription()
    first.patient.phone = "+1 555 0100"
    first.patient.save()
    # A second course beside the first (as an old data import might hold): more texts a day.
    second = PrescriptionFactory(
        patient=first.patient, clinician=first.clinician, start_date=first.start_date
    )
    return first, second


def text(prescription, slot, day=DAY, status="queued") -> Reminder:
    return Reminder.objects.create(
        prescription=prescription,
        slot=slot,
        local_date=day,
        fire_at=FIRE_AT,
        channel="sms",
        status=status,
    )


def test_it_sends_no_more_texts_a_day_than_the_limit(texting):
    first, second = texting
    text(first, "bedtime", status="sent")
    reminders = [text(first, "morning"), text(second, "morning"), text(second, "bedtime")]

    with time_machine.travel(FIRE_AT, tick=False):
        reminders_deliver(reminder_ids=[r.id for r in reminders])

    statuses = [Reminder.objects.get(id=r.id) for r in reminders]
    assert [r.status for r in statuses] == ["sent", "skipped", "skipped"]
    assert statuses[1].reason == SMS_LIMIT_REACHED


def test_the_limit_counts_the_texts_sent_for_each_course_of_the_patient(texting):
    first, second = texting
    text(second, "bedtime", status="sent")
    reminders = [text(first, "morning"), text(first, "bedtime")]

    with time_machine.travel(FIRE_AT, tick=False):
        reminders_deliver(reminder_ids=[r.id for r in reminders])

    assert [Reminder.objects.get(id=r.id).status for r in reminders] == ["sent", "skipped"]


def test_the_limit_counts_each_local_date_apart(texting):
    first, _ = texting
    text(first, "morning", day=DAY - timedelta(days=1), status="sent")
    text(first, "bedtime", day=DAY - timedelta(days=1), status="sent")
    today = text(first, "morning")

    with time_machine.travel(FIRE_AT, tick=False):
        reminders_deliver(reminder_ids=[today.id])

    assert Reminder.objects.get(id=today.id).status == "sent"


# --- Requests per user ------------------------------------------------------------------


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})


def test_a_user_over_their_budget_is_slowed_down_and_others_are_not(
    three_a_minute, clinician_a, staff_a
):
    busy = client_for(clinician_a)
    answers = [busy.get("/api/v1/patients/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert client_for(staff_a).get("/api/v1/patients/").status_code == 200


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def test_with_redis_configured_the_budget_is_counted_in_redis(
    three_a_minute, settings, clinician_a
):
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(REDIS_URL)
    try:
        client_for(clinician_a).get("/api/v1/patients/")
        keys = server.keys(f"{prefix}:*throttle_user_{clinician_a.id}")
        assert len(keys) == 1
        # Another web process sharing the Redis sees the same count.
        assert len(caches.create_connection("default").get(f"throttle_user_{clinician_a.id}")) == 1
    finally:
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)


@pytest.mark.parametrize(
    ("name", "value"),
    [("USER_THROTTLE_RATE", "lots"), ("SMS_DAILY_LIMIT_PER_PATIENT", "0")],
)
def test_a_bad_limit_refuses_to_start(name, value):
    started = start_django(**{name: value})
    assert started.returncode != 0
    assert name in started.stderr


def test_a_database_gone_mid_request_shows_a_page_saying_so(clinician_a, monkeypatch):
    from django.db import OperationalError

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("prescriptions.staff_web.clinic.table_view", gone)
    client = Client()
    client.force_login(clinician_a)
    response = client.get("/staff/")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "briefly unavailable" in response.content.decode()


def test_a_database_gone_mid_request_answers_503_to_retry(patient_a, monkeypatch):
    from django.db import OperationalError

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("prescriptions.api.views.CheckInList.get_queryset", gone)
    response = client_for(patient_a.user).get("/api/v1/check-ins/")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "detail" in response.json()
