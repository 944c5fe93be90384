"""A due reminder crosses a real broker to a real Celery worker and is emailed once."""

import pytest

from prescriptions.models import Reminder
from prescriptions.reminders.tick import reminders_tick
from prescriptions.tasks import deliver_reminders
from tests.conftest import client_for
from tests.prescriptions.reminders_support import due_a_minute_ago


@pytest.mark.celery_worker
def test_it_delivers_a_due_reminder_once_through_a_real_worker(live_worker, patient_a):
    prescription = due_a_minute_ago(patient_a)

    assert reminders_tick(deliver=deliver_reminders.delay) == 1
    reminder = Reminder.objects.get(prescription=prescription)
    # The broker may hand the same batch over again: it must not send a second email.
    deliver_reminders.delay([reminder.id])

    client = client_for(patient_a.user)

    def sent():
        rows = client.get("/api/v1/reminders/").json()["results"]
        return rows if rows and rows[0]["status"] == "sent" else None

    [row] = live_worker.wait_for(sent)
    assert (row["id"], row["slot"], row["channel"]) == (reminder.id, "morning", "email")
    live_worker.wait_for(lambda: live_worker.log().count("deliver_reminders") >= 4)
    messages = "".join(live_worker.mails())
    assert messages.count("Subject: ") == 1
    assert f"To: {patient_a.email}" in messages
