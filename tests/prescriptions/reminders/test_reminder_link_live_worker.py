"""A real worker sends the reminder email; the check-in link in it works."""

import re

import pytest
from django.test import Client

from prescriptions.models import CheckIn, Reminder
from prescriptions.reminders.tick import reminders_tick
from prescriptions.tasks import deliver_reminders
from tests.prescriptions.reminders_support import due_a_minute_ago

LINK = re.compile(r"https?://[^/\s]+(/c/[^/\s]+/)")


@pytest.mark.celery_worker
def test_it_emails_a_check_in_link_that_opens_and_records_the_session(live_worker, patient_a):
    prescription = due_a_minute_ago(patient_a)

    assert reminders_tick(deliver=deliver_reminders.delay) == 1
    live_worker.wait_for(lambda: Reminder.objects.filter(status="sent").exists())

    [message] = live_worker.mails()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in message
    assert f"Hi {patient_a.first_name}," in message
    path = LINK.search(message).group(1)
    client = Client()
    assert "how did your morning session go?" in client.get(path).content.decode()
    client.post(path, {"pain_before": 5, "pain_after": 2})
    checkin = CheckIn.objects.get()
    assert (checkin.prescription, checkin.slot) == (prescription, "morning")
    assert checkin.local_date == Reminder.objects.get().local_date
