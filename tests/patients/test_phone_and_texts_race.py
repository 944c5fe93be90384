"""Removing a patient's phone and choosing text messages at the same instant: the second
sees the first, so reminders never end up going by text to no number."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from patients.models import Patient, ReminderPreference
from patients.services import patient_update, reminder_preference_update
from tests.factories import PatientFactory


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction keeps its first view
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_switch_to_texts_waits_for_a_phone_removal_and_is_refused(clinic_a):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks (its writers take turns on the whole file)")
    patient = PatientFactory(clinic=clinic_a, phone="+15551234567")
    preference = ReminderPreference.objects.create(patient=patient, channel="email")
    refusals = []

    def choose_texts():
        try:
            with transaction.atomic():
                reminder_preference_update(
                    preference=ReminderPreference.objects.get(id=preference.id),
                    changes={"channel": "sms"},
                )
        except ValidationError as error:
            refusals.append(error.message_dict)
        finally:
            connection.close()

    with transaction.atomic():
        patient_update(patient=patient, phone="")  # the clinic removes the number...
        other = threading.Thread(target=choose_texts)  # ...as the patient picks texts
        other.start()
        deadline = time.monotonic() + 5
        while not waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting_for_a_lock()
    other.join(timeout=5)

    assert refusals == [{"channel": ["Add a phone number before choosing text messages."]}]
    assert ReminderPreference.objects.get(id=preference.id).channel == "email"
    assert Patient.objects.get(id=patient.id).phone == ""
