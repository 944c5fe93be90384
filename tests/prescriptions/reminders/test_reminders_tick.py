"""The scheduler tick: which reminders it creates, when, and what it decides about each."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail

from clinic.models import Heartbeat
from patients.models import Patient, ReminderPreference
from prescriptions import tasks
from prescriptions.models import PrescriptionSlot, Reminder, StatusChange
from prescriptions.reminders import plan
from prescriptions.reminders import tick as tick_module
from tests.conftest import client_for
from tests.factories import CheckInFactory
from tests.prescriptions.reminders_support import scheduled_prescription, tick

pytestmark = pytest.mark.django_db

# 07:00 and 22:00 in New York in June (UTC-4).
MORNING = datetime(2024, 6, 3, 11, 0, tzinfo=UTC)
BEDTIME = datetime(2024, 6, 4, 2, 0, tzinfo=UTC)
# 23:00 on 2 June in New York: after that day's bedtime, so the 3rd's morning is next.
CREATED = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)


@pytest.fixture
def prescription():
    with time_machine.travel(CREATED, tick=False):
        return scheduled_prescription()


def prefer(prescription, **fields):
    ReminderPreference.objects.update_or_create(patient=prescription.patient, defaults=fields)


def only_reminder():
    return Reminder.objects.get()


def test_it_sends_the_morning_reminder_at_its_local_time(prescription):
    with time_machine.travel(MORNING, tick=False):
        tick()

    reminder = only_reminder()
    assert (reminder.slot, reminder.local_date, reminder.fire_at) == (
        "morning",
        date(2024, 6, 3),
        MORNING,
    )
    assert reminder.status == "sent"
    assert mail.outbox[0].to == [prescription.patient.email]
    assert "before you get out of bed" in mail.outbox[0].body.lower()


def test_it_sends_nothing_a_minute_before_the_time(prescription):
    with time_machine.travel(datetime(2024, 6, 3, 10, 59), tick=False):
        tick()

    assert not Reminder.objects.exists()


def test_it_creates_one_reminder_however_many_ticks_run(prescription):
    for seconds in (0, 20, 40, 60):
        with time_machine.travel(MORNING + timedelta(seconds=seconds), tick=False):
            tick()

    assert Reminder.objects.count() == 1
    assert len(mail.outbox) == 1


def test_it_moves_the_slot_to_the_next_day_once_it_fired(prescription):
    with time_machine.travel(MORNING, tick=False):
        tick()

    slot = PrescriptionSlot.objects.get(prescription=prescription, kind="morning")
    assert slot.next_fire_at == MORNING + timedelta(days=1)


def test_it_skips_a_session_already_checked_in(prescription):
    CheckInFactory(
        prescription=prescription, slot="morning", performed_at=MORNING - timedelta(hours=1)
    )

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert only_reminder().status == "skipped"
    assert "checked in" in only_reminder().reason
    assert mail.outbox == []


def test_it_skips_a_reminder_inside_quiet_hours(prescription):
    prefer(prescription, quiet_start=time(6), quiet_end=time(8))

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert (only_reminder().status, only_reminder().reason) == (
        "skipped",
        "inside the patient's quiet hours",
    )
    assert mail.outbox == []


def test_it_skips_on_both_sides_of_midnight_when_quiet_hours_wrap(prescription):
    prefer(prescription, quiet_start=time(21, 30), quiet_end=time(7, 30))

    for instant in (MORNING, BEDTIME):
        with time_machine.travel(instant, tick=False):
            tick()

    assert sorted(Reminder.objects.values_list("slot", "status")) == [
        ("bedtime", "skipped"),
        ("morning", "skipped"),
    ]


def test_it_sends_just_outside_quiet_hours_that_wrap(prescription):
    prefer(prescription, quiet_start=time(22, 30), quiet_end=time(6, 59))

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert only_reminder().status == "sent"


def test_it_skips_when_the_patient_chose_no_reminders(prescription):
    prefer(prescription, channel="none")

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert (only_reminder().status, only_reminder().channel) == ("skipped", "none")


def test_it_skips_a_patient_who_has_not_activated_their_account(prescription):
    user = prescription.patient.user
    user.is_active = False
    user.save(update_fields=["is_active"])

    with time_machine.travel(MORNING, tick=False):
        tick()

    reminder = only_reminder()
    assert (reminder.status, reminder.reason) == (
        "skipped",
        "the patient has not activated their account yet",
    )
    assert mail.outbox == []


def test_it_reminds_a_patient_from_the_first_slot_after_they_activate(prescription):
    user = prescription.patient.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    with time_machine.travel(MORNING, tick=False):
        tick()
    user.is_active = True
    user.save(update_fields=["is_active"])

    with time_machine.travel(BEDTIME, tick=False):
        tick()

    assert Reminder.objects.get(slot="bedtime").status == "sent"
    assert len(mail.outbox) == 1


def test_it_still_sends_a_reminder_an_hour_late(prescription):
    with time_machine.travel(MORNING + timedelta(minutes=60), tick=False):
        tick()

    assert only_reminder().status == "sent"


def test_it_skips_a_reminder_more_than_an_hour_late(prescription):
    with time_machine.travel(MORNING + timedelta(minutes=61), tick=False):
        tick()

    assert only_reminder().status == "skipped"
    assert "late" in only_reminder().reason
    assert mail.outbox == []


def test_it_records_every_slot_missed_while_the_scheduler_was_down_as_skipped(prescription):
    with time_machine.travel(MORNING + timedelta(days=2), tick=False):
        tick()

    rows = Reminder.objects.order_by("fire_at").values_list("local_date", "slot", "status")
    assert list(rows) == [
        (date(2024, 6, 3), "morning", "skipped"),
        (date(2024, 6, 3), "bedtime", "skipped"),
        (date(2024, 6, 4), "morning", "skipped"),
        (date(2024, 6, 4), "bedtime", "skipped"),
        (date(2024, 6, 5), "morning", "sent"),
    ]


def test_it_reminds_nothing_while_paused():
    with time_machine.travel(MORNING - timedelta(hours=2), tick=False):
        prescription = scheduled_prescription(paused=True, paused_at=MORNING - timedelta(hours=2))

    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        tick()

    assert not Reminder.objects.exists()
    assert set(prescription.slots.values_list("next_fire_at", flat=True)) == {None}


def test_it_reminds_nothing_even_when_a_pause_was_not_rescheduled(prescription):
    # The tick re-reads the status history, so a stale next_fire_at sends nothing.
    StatusChange.objects.create(
        prescription=prescription, status="paused", effective_at=MORNING - timedelta(hours=2)
    )

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert not Reminder.objects.exists()


def test_it_reminds_nothing_after_the_prescription_ended(prescription):
    StatusChange.objects.create(
        prescription=prescription, status="ended", effective_at=MORNING - timedelta(hours=2)
    )
    prescription.status = "ended"
    prescription.save()
    plan.slots_reschedule(prescription_id=prescription.id, now=MORNING - timedelta(hours=2))

    with time_machine.travel(MORNING + timedelta(days=3), tick=False):
        tick()

    assert not Reminder.objects.exists()


def test_it_reminds_nothing_after_the_end_date():
    with time_machine.travel(CREATED, tick=False):
        scheduled_prescription(end_date=date(2024, 6, 2))

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert not Reminder.objects.exists()


def test_it_sends_the_bedtime_reminder_early_to_start_the_heat():
    with time_machine.travel(CREATED, tick=False):
        scheduled_prescription(heat_prep=True, slots=[("bedtime", "22:00")])

    with time_machine.travel(BEDTIME - timedelta(minutes=10), tick=False):
        tick()

    reminder = only_reminder()
    assert (reminder.slot, reminder.local_date) == ("bedtime", date(2024, 6, 3))
    assert reminder.fire_at == BEDTIME - timedelta(minutes=10)
    assert "heat" in mail.outbox[0].body
    assert "10 minutes" in mail.outbox[0].body


def test_it_moves_reminders_to_the_new_zone_when_the_patient_moves(prescription):
    Patient.objects.filter(id=prescription.patient_id).update(timezone="Europe/London")

    with time_machine.travel(datetime(2024, 6, 3, 5, 0, tzinfo=UTC), tick=False):
        plan.patient_slots_reschedule(patient_id=prescription.patient_id)

    slot = PrescriptionSlot.objects.get(prescription=prescription, kind="morning")
    assert slot.next_fire_at == datetime(2024, 6, 3, 6, 0, tzinfo=UTC)  # 07:00 BST


def test_it_keeps_a_reminder_that_came_due_just_before_an_edit_rescheduled(prescription):
    plan.slots_reschedule(prescription_id=prescription.id, now=MORNING + timedelta(minutes=5))

    with time_machine.travel(MORNING + timedelta(minutes=6), tick=False):
        tick()
    plan.slots_reschedule(prescription_id=prescription.id, now=MORNING + timedelta(minutes=7))
    with time_machine.travel(MORNING + timedelta(minutes=8), tick=False):
        tick()

    assert only_reminder().status == "sent"
    assert len(mail.outbox) == 1


def test_it_records_the_tick_for_healthz(prescription):
    with time_machine.travel(MORNING, tick=False):
        tick()

    assert Heartbeat.objects.get(name="scheduler").at == MORNING


def test_it_queues_delivery_in_batches_of_ids(monkeypatch):
    with time_machine.travel(CREATED, tick=False):
        for _ in range(5):
            scheduled_prescription(slots=[("morning", "07:00")])
    monkeypatch.setattr(tick_module, "DELIVERY_BATCH", 2)
    batches = []
    monkeypatch.setattr("prescriptions.tasks.deliver_reminders.delay", batches.append)

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert sorted(i for batch in batches for i in batch) == sorted(
        Reminder.objects.values_list("id", flat=True)
    )


def test_it_runs_a_constant_number_of_queries_however_many_slots_are_due(
    django_assert_num_queries, monkeypatch
):
    with time_machine.travel(CREATED, tick=False):
        for _ in range(12):
            scheduled_prescription()
    monkeypatch.setattr("prescriptions.tasks.deliver_reminders.delay", lambda ids: None)

    # 18 for the reminders (the sweep reads expired leases and sends in doubt apart, one
    # query each), 15 for the ledger days that began since they were made (one outdates
    # the patients' stored clinic rows, two keep the patients' ledger rows).
    with time_machine.travel(MORNING, tick=False), django_assert_num_queries(33):
        tick()

    assert Reminder.objects.count() == 12


def test_it_follows_a_zone_change_made_through_the_api(
    clinician_a, patient_a, django_capture_on_commit_callbacks
):
    with time_machine.travel(CREATED, tick=False):
        prescription = scheduled_prescription(patient_a, slots=[("morning", "07:00")])

        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(clinician_a).patch(
                f"/api/v1/patients/{patient_a.id}/", {"timezone": "Asia/Kolkata"}
            )

    assert response.status_code == 200
    slot = PrescriptionSlot.objects.get(prescription=prescription)
    assert slot.next_fire_at == datetime(2024, 6, 4, 1, 30, tzinfo=UTC)  # 07:00 IST


def test_it_sends_again_a_reminder_whose_delivery_message_was_lost(prescription, monkeypatch):
    with time_machine.travel(MORNING, tick=False):
        monkeypatch.setattr("prescriptions.tasks.deliver_reminders.delay", lambda ids: None)
        tick()  # the reminder is queued, but its message never reaches a worker
    monkeypatch.undo()
    assert only_reminder().status == "queued"

    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        tick()
    assert only_reminder().status == "queued"  # may still be waiting in a busy queue

    with time_machine.travel(MORNING + timedelta(minutes=11), tick=False):
        tick()
        tick()
    assert only_reminder().status == "sent"
    assert len(mail.outbox) == 1


def test_the_beat_queues_the_next_minutes_reminder_to_go_out_at_its_instant(
    prescription, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        tasks.deliver_reminders, "apply_async", lambda args, **options: queued.append(options)
    )
    with (
        time_machine.travel(MORNING - timedelta(minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.reminders_tick()

    assert only_reminder().status == "queued"
    assert queued == [{"eta": MORNING}]


def test_the_beat_leaves_a_reminder_more_than_a_minute_away_to_a_later_tick(prescription):
    with time_machine.travel(MORNING - timedelta(minutes=1, seconds=1), tick=False):
        tasks.reminders_tick()

    assert not Reminder.objects.exists()
