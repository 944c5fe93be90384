"""Shared set-up for the reminder tests: a scheduled prescription and a tick that runs
what it queues after commit, as it would outside a test transaction."""

from datetime import UTC, date, datetime, timedelta

from django.test import TestCase
from django.utils import timezone

from prescriptions import tasks
from prescriptions.models import Reminder
from prescriptions.reminders.tick import reminders_tick
from tests.factories import PatientFactory, PrescriptionFactory


def scheduled_prescription(patient=None, *, timezone="America/New_York", **kwargs):
    patient = patient or PatientFactory(timezone=timezone)
    kwargs.setdefault("start_date", date(2024, 6, 1))
    return PrescriptionFactory(patient=patient, **kwargs)


def tick(now=None) -> int:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return reminders_tick(now=now, deliver=tasks.deliver_reminders.delay)


def due_a_minute_ago(patient):
    """A prescription whose morning slot fell due a minute ago by the real clock, for the
    tests with a real worker (it judges lateness by that clock)."""
    due = (timezone.now() - timedelta(minutes=1)).astimezone(UTC)
    patient.timezone = "UTC"
    patient.save()
    return scheduled_prescription(
        patient,
        start_date=due.date() - timedelta(days=1),
        slots=[("morning", due.strftime("%H:%M"))],
    )


# A morning slot's instant on 3 June 2024: 07:00 in New York.
FIRE_AT = datetime(2024, 6, 3, 11, 0, tzinfo=UTC)


def queued(prescription, *, slot="morning", channel="email") -> Reminder:
    """A reminder the tick made for FIRE_AT, waiting to be sent."""
    return Reminder.objects.create(
        prescription=prescription,
        slot=slot,
        local_date=date(2024, 6, 3),
        fire_at=FIRE_AT,
        channel=channel,
    )
