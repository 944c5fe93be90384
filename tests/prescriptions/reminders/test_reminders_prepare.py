"""Reminders prepared in the minute before their instant: what goes out at the instant is
what the patient's details say then, and every last-moment check still holds."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from patients.models import ReminderPreference
from prescriptions.reminders import links, prepare
from prescriptions.reminders.plan import CHECKED_IN
from prescriptions.reminders.tick import CHANNEL_NONE
from prescriptions.tasks import deliver_reminders, prepare_reminders
from tests.factories import CheckInFactory
from tests.prescriptions.reminders_support import FIRE_AT, queued, scheduled_prescription

pytestmark = pytest.mark.django_db

BEFORE = FIRE_AT - timedelta(seconds=50)  # the beat's tick queued it a minute ahead


@pytest.fixture
def prescription():
    with time_machine.travel(FIRE_AT - timedelta(hours=8), tick=False):
        prescription = scheduled_prescription()
    prescription.patient.first_name = "Ada"
    prescription.patient.save()
    return prescription


def prepared_then_delivered(reminder, change=lambda: None):
    with time_machine.travel(BEFORE, tick=False):
        prepare_reminders.delay([reminder.id])
        change()
    with time_machine.travel(FIRE_AT, tick=False):
        deliver_reminders.delay([reminder.id])
    reminder.refresh_from_db()
    return reminder


def sent_bytes(message) -> bytes:
    return message.message().as_bytes()


def same_email(data: bytes, other: bytes) -> bool:
    """The same bytes but for the MIME boundary, drawn at random for each email built."""

    def boundless(data):
        return re.sub(rb"=+\d+==", b"BOUNDARY", data)

    return boundless(data) == boundless(other)


def test_preparing_sends_nothing_and_leaves_the_reminder_queued(prescription):
    reminder = queued(prescription)

    with time_machine.travel(BEFORE, tick=False):
        assert prepare.reminders_prepare(reminder_ids=[reminder.id]) == 1

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.lease_until) == ("queued", 0, None)
    assert mail.outbox == []


def test_a_prepared_email_goes_out_once_at_its_instant_as_one_built_then(prescription):
    reminder = prepared_then_delivered(queued(prescription))

    assert (reminder.status, reminder.sent_at, reminder.attempts) == ("sent", FIRE_AT, 1)
    [message] = mail.outbox
    assert message.to == [prescription.patient.email]
    assert message.subject == "Ada, your morning knee rocks"
    built_at_the_instant = prepare.prepare(reminder, FIRE_AT).email
    assert same_email(sent_bytes(message), built_at_the_instant.mime)
    assert b"Date: Mon, 03 Jun 2024 11:00:00 -0000" in sent_bytes(message)
    assert f"Message-ID: <reminder-{reminder.id}@".encode() in sent_bytes(message)


@pytest.mark.parametrize(
    ("field", "value", "sent"),
    [
        ("email", "ada.new@example.org", b"To: ada.new@example.org"),
        ("first_name", "Adaline", b"Hi Adaline,"),
    ],
)
def test_an_address_or_name_changed_after_preparing_is_the_one_used(
    prescription, field, value, sent
):
    patient = prescription.patient

    def change():
        setattr(patient, field, value)
        patient.save()

    prepared_then_delivered(queued(prescription), change)

    [message] = mail.outbox
    assert sent in sent_bytes(message)


def test_a_check_in_after_preparing_stops_the_reminder(prescription):
    reminder = queued(prescription)

    reminder = prepared_then_delivered(
        reminder,
        lambda: CheckInFactory(
            prescription=prescription, slot="morning", local_date=reminder.local_date
        ),
    )

    assert (reminder.status, reminder.reason) == ("skipped", CHECKED_IN)
    assert mail.outbox == []


def test_stopping_reminders_after_preparing_is_honoured(prescription):
    def stop():
        ReminderPreference.objects.update_or_create(
            patient=prescription.patient, defaults={"channel": "none"}
        )

    reminder = prepared_then_delivered(queued(prescription), stop)

    assert (reminder.status, reminder.reason) == ("skipped", CHANNEL_NONE)
    assert mail.outbox == []


def test_a_prepared_text_message_goes_out_at_its_instant(prescription, settings):
    prescription.patient.phone = "+1 555 010 0199"
    prescription.patient.save()

    reminder = prepared_then_delivered(queued(prescription, channel="sms"))

    assert reminder.status == "sent"
    [sms] = [json.loads(p.read_text()) for p in settings.SMS_FILE_PATH.iterdir()]
    assert sms["to"] == "+1 555 010 0199"
    assert sms["body"].startswith("Ada, knee rocks before you get up")


def test_nothing_is_prepared_once_the_instant_has_come(prescription):
    reminder = queued(prescription)

    with time_machine.travel(FIRE_AT, tick=False):
        assert prepare.reminders_prepare(reminder_ids=[reminder.id]) == 0


def test_a_cache_that_is_down_only_means_building_at_the_instant(prescription, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    reminder = prepared_then_delivered(queued(prescription))

    assert reminder.status == "sent"
    [message] = mail.outbox
    assert message.body.startswith("Hi Ada,")


def test_reminders_prepared_together_each_go_out_with_their_own_link(prescription):
    morning = queued(prescription)
    bedtime = queued(prescription, slot="bedtime")

    with time_machine.travel(BEFORE, tick=False):
        prepare_reminders.delay([morning.id, bedtime.id])
    with time_machine.travel(FIRE_AT, tick=False):
        deliver_reminders.delay([morning.id, bedtime.id])

    assert len(mail.outbox) == 2
    for reminder in (morning, bedtime):
        [message] = [m for m in mail.outbox if f"/c/{links.checkin_token(reminder.id)}/" in m.body]
        assert f"Message-ID: <reminder-{reminder.id}@".encode() in sent_bytes(message)
        assert f"your {reminder.slot} knee rocks" in message.subject


@pytest.mark.parametrize(
    ("channel", "slot", "heat_prep"),
    [("email", "morning", False), ("email", "bedtime", True), ("sms", "bedtime", False),
     ("webhook", "morning", False)],
)  # fmt: skip
def test_what_was_prepared_is_found_at_the_instant_and_not_built_again(
    prescription, monkeypatch, channel, slot, heat_prep
):
    prescription.heat_prep = heat_prep
    prescription.save()
    prescription.patient.phone = "+1 555 010 0199"
    prescription.patient.save()
    ReminderPreference.objects.update_or_create(
        patient=prescription.patient,
        defaults={"channel": channel, "webhook_url": "https://hooks.example.test/kr"},
    )
    monkeypatch.setattr("prescriptions.reminders.channels.send_webhook", lambda **kwargs: None)
    reminder = queued(prescription, slot=slot, channel=channel)
    with time_machine.travel(BEFORE, tick=False):
        prepare_reminders.delay([reminder.id])
    built = []
    monkeypatch.setattr(prepare, "prepare", lambda *args: built.append(args))

    with time_machine.travel(FIRE_AT, tick=False):
        deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, built) == ("sent", [])
