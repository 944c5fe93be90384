"""Shared set-up for the reminder tests: a scheduled prescription and a tick that runs
what it queues after commit, as it would outside a test transaction."""

from datetime import date

from django.test import TestCase

from prescriptions import tasks
from prescriptions.reminders.tick import reminders_tick
from tests.factories import PatientFactory, PrescriptionFactory


def scheduled_prescription(patient=None, *, timezone="America/New_York", **kwargs):
    patient = patient or PatientFactory(timezone=timezone)
    kwargs.setdefault("start_date", date(2024, 6, 1))
    return PrescriptionFactory(patient=patient, **kwargs)


def tick(now=None) -> int:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return reminders_tick(now=now, deliver=tasks.deliver_reminders.delay)
