"""A due reminder crosses a real broker to a real Celery worker and is emailed once."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from prescriptions.models import Reminder
from prescriptions.reminders.tick import reminders_tick
from prescriptions.tasks import deliver_reminders
from tests.conftest import client_for
from tests.prescriptions.reminders_support import scheduled_prescription


@pytest.mark.celery_worker
def test_it_delivers_a_due_reminder_once_through_a_real_worker(live_worker, patient_a):
    # The worker judges lateness by the real clock, so the slot fell due a minute ago.
    due = (timezone.now() - timedelta(minutes=1)).astimezone(UTC)
    patient_a.timezone = "UTC"
    patient_a.save()
    prescription = scheduled_prescription(
        patient_a,
        start_date=due.date() - timedelta(days=1),
        slots=[("morning", due.strftime("%H:%M"))],
    )

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
