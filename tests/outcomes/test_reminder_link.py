"""Due questionnaires ride with the reminder of the day they fall due: a link in the same
message (email and text), never a message of their own."""

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client

from outcomes import links
from outcomes.schedules import schedule_defaults_create
from patients.models import ReminderPreference
from prescriptions import extensions
from prescriptions.models import Reminder
from prescriptions.reminders.messages import reminder_message
from prescriptions.reminders.transports.sms_length import sms_segments
from tests.factories import PatientFactory
from tests.outcomes.support import psfs, respond
from tests.prescriptions.reminders_support import scheduled_prescription, tick

pytestmark = pytest.mark.django_db

START = date(2024, 6, 1)
DAY_14 = date(2024, 6, 15)
MORNING_14 = datetime(2024, 6, 15, 11, 0, tzinfo=UTC)  # 07:00 in New York
MORNING_15 = datetime(2024, 6, 16, 11, 0, tzinfo=UTC)
CREATED = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def prescription(patient_a):
    ReminderPreference.objects.create(patient=patient_a)
    with time_machine.travel(CREATED, tick=False):
        prescription = scheduled_prescription(patient_a, slots=[("morning", "07:00")])
    schedule_defaults_create(prescription)
    respond(patient_a, "psfs", psfs(3), CREATED)
    return prescription


def question_link(patient, on=DAY_14) -> str:
    return f"http://testserver/q/{links.questionnaire_token(patient.id, on)}/"


def test_the_reminder_of_the_day_they_fall_due_carries_the_link(prescription, patient_a):
    with time_machine.travel(MORNING_14, tick=False):
        tick()
        [message] = mail.outbox  # one message, not two
        assert question_link(patient_a) in message.body
        [(html, _)] = message.alternatives
        assert f'href="{question_link(patient_a)}"' in html
        page = Client().get(question_link(patient_a).removeprefix("http://testserver"))
        assert "Patient Global Impression of Change" in page.content.decode()


def test_the_next_days_reminder_carries_none(prescription, patient_a):
    with time_machine.travel(MORNING_15, tick=False):
        tick()
    [message] = mail.outbox
    assert "/q/" not in message.body


def test_answered_already_the_reminder_carries_none(prescription, patient_a):
    respond(patient_a, "psfs", psfs(5, labels=(None,)), datetime(2024, 6, 15, 4, 30, tzinfo=UTC))
    respond(
        patient_a,
        "pgic",
        [{"item": "change", "value": 3}],
        datetime(2024, 6, 15, 4, 30, tzinfo=UTC),
    )
    with time_machine.travel(MORNING_14, tick=False):
        tick()
    [message] = mail.outbox
    assert "/q/" not in message.body


def test_the_text_message_carries_it_in_one_sms(prescription, patient_a, settings):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()
    ReminderPreference.objects.filter(patient=patient_a).update(channel="sms")
    with time_machine.travel(MORNING_14, tick=False):
        tick()
    [sms] = [json.loads(p.read_text()) for p in settings.SMS_FILE_PATH.iterdir()]
    assert sms["body"].endswith(f" Questions: {question_link(patient_a)}")
    assert "/c/" in sms["body"]
    assert sms_segments(sms["body"]) == 1


@pytest.mark.parametrize(
    "site", ["http://testserver", "https://kneerocks.app", "https://riverside.kneerocks.app"]
)
def test_a_long_name_and_address_still_make_one_sms(prescription, settings, site):
    settings.SITE_URL = site
    prescription.patient.first_name = "Bartholomew-Alexander Maximilian"
    prescription.heat_prep = True
    reminder = Reminder(
        id=2_000_000_000, prescription=prescription, slot="bedtime", local_date=DAY_14
    )
    sms = reminder_message(reminder).sms
    assert sms_segments(sms) == 1
    # The check-in link always; the questions' link when one SMS still holds both (else
    # they wait on the patient's page rather than cost a second message).
    assert "/c/" in sms
    if site != "https://riverside.kneerocks.app":
        assert "Questions: " in sms


def test_a_batch_of_reminders_asks_for_its_links_in_three_queries(
    clinic_a, django_assert_num_queries
):
    reminders = []
    with time_machine.travel(CREATED, tick=False):
        for n in range(6):
            patient = PatientFactory(clinic=clinic_a)
            prescription = scheduled_prescription(patient, slots=[("morning", "07:00")])
            schedule_defaults_create(prescription)
            if n % 2:
                respond(patient, "psfs", psfs(3), CREATED)
            for day in (DAY_14, date(2024, 6, 16)):
                reminders.append(
                    Reminder(
                        id=len(reminders) + 1,
                        prescription=prescription,
                        slot="morning",
                        local_date=day,
                        fire_at=MORNING_14,
                    )
                )

    with django_assert_num_queries(3):
        found = extensions.reminder_links(reminders)

    # Day 14 (the PGIC and the PSFS due) carries it for everyone; the next day nobody.
    assert sorted(found) == [r.id for r in reminders if r.local_date == DAY_14]
