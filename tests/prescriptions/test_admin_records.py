"""The admin shows the clinical record but never lets anyone rewrite it."""

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import User
from prescriptions.models import Alert, CheckIn, Reminder, StatusChange
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    checkin = CheckInFactory(prescription=rx, pain_before=6)
    alert = Alert.objects.create(patient=patient_a, kind="red_flag")
    reminder = Reminder.objects.create(
        prescription=rx,
        slot="morning",
        local_date=checkin.local_date,
        fire_at=checkin.performed_at,
        channel="email",
        status="failed",
        reason="Mailbox full",
    )
    return [checkin, alert, reminder, rx.status_changes.get()]


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    return client


def url(obj, view: str) -> str:
    meta = obj._meta
    args = [] if view == "add" else [obj.pk]
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def test_it_shows_each_record_without_a_save_button(admin_client, records):
    for obj in records:
        page = admin_client.get(url(obj, "change"))
        assert page.status_code == 200, obj
        assert b'name="_save"' not in page.content, obj


def test_it_refuses_to_change_add_or_delete_a_record(admin_client, records):
    checkin, alert, reminder, change = records

    assert admin_client.post(url(checkin, "change"), {"pain_before": 1}).status_code == 403
    assert admin_client.get(url(alert, "add")).status_code == 403
    assert admin_client.post(url(reminder, "delete"), {"post": "yes"}).status_code == 403
    assert admin_client.post(url(change, "delete"), {"post": "yes"}).status_code == 403
    assert CheckIn.objects.get().pain_before == 6
    assert Reminder.objects.count() == 1 and StatusChange.objects.count() == 1


def test_it_lists_failed_reminders_with_their_reason(admin_client, records):
    page = admin_client.get(
        reverse("admin:prescriptions_reminder_changelist"), {"status__exact": "failed"}
    )

    assert b"Mailbox full" in page.content
