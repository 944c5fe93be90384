"""A worker killed mid-batch loses nothing: claims carry a lease, `sending` marks the one
whose channel call had begun, and the tick's sweep takes back what a dead worker held."""

import json
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from patients.models import ReminderPreference
from prescriptions.models import Reminder
from prescriptions.reminders import channels, deliver
from prescriptions.reminders.tick import IN_DOUBT, IN_DOUBT_TEXT, _recover_undelivered
from tests.prescriptions.reminders_support import FIRE_AT, queued, scheduled_prescription, tick

pytestmark = pytest.mark.django_db

LEASE = timedelta(minutes=5)


@pytest.fixture
def prescription():
    with time_machine.travel(FIRE_AT - timedelta(hours=8), tick=False):
        return scheduled_prescription()


def killed_after_claiming(reminders, *, sending=()):
    """What a SIGKILLed worker leaves: its batch claimed with a lease, and the reminder it
    was sending marked `sending`."""
    with time_machine.travel(FIRE_AT, tick=False):
        deliver._claim([r.id for r in reminders], FIRE_AT)
    Reminder.objects.filter(id__in=[r.id for r in sending]).update(status="sending")


def sweep(minutes, seconds=0):
    with time_machine.travel(FIRE_AT + timedelta(minutes=minutes, seconds=seconds), tick=False):
        tick()


def test_a_claim_whose_lease_ran_out_before_sending_began_is_sent(prescription):
    morning, bedtime = queued(prescription), queued(prescription, slot="bedtime")
    killed_after_claiming([morning, bedtime])

    sweep(minutes=2)  # the lease still holds: the worker may only be slow
    assert mail.outbox == []

    sweep(minutes=6)
    assert sorted(Reminder.objects.values_list("status", flat=True)) == ["sent", "sent"]
    assert len(mail.outbox) == 2


def test_the_reminder_being_sent_is_in_doubt_and_goes_again_under_the_same_message_id(
    prescription,
):
    morning, bedtime = queued(prescription), queued(prescription, slot="bedtime")
    killed_after_claiming([morning, bedtime], sending=[morning])

    sweep(minutes=6)

    morning.refresh_from_db()
    assert (morning.status, morning.reason) == ("sent", "")
    assert morning.attempts == 2
    ids = {message.extra_headers["Message-ID"] for message in mail.outbox}
    assert ids == {
        f"<reminder-{morning.id}@kneerocks.local>",
        f"<reminder-{bedtime.id}@kneerocks.local>",
    }


def test_the_sweep_counts_what_was_in_doubt(prescription, caplog):
    morning = queued(prescription)
    killed_after_claiming([morning], sending=[morning])
    later = FIRE_AT + timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        assert _recover_undelivered(later, lambda ids: None) == 1
    assert Reminder.objects.get().reason == IN_DOUBT
    assert "1 reminders in doubt" in caplog.text


def test_a_text_message_in_doubt_is_not_sent_twice(prescription, settings):
    prescription.patient.phone = "+1 555 0100"
    prescription.patient.save()
    text = queued(prescription, channel="sms")
    killed_after_claiming([text], sending=[text])

    sweep(minutes=6)

    text.refresh_from_db()
    assert (text.status, text.reason) == ("failed", IN_DOUBT_TEXT)
    assert not settings.SMS_FILE_PATH.exists() or not list(settings.SMS_FILE_PATH.iterdir())


def test_a_worker_whose_lease_ran_out_cannot_send_what_another_took_over(prescription):
    morning = queued(prescription)
    with time_machine.travel(FIRE_AT, tick=False):
        [slow] = deliver._claim([morning.id], FIRE_AT)
    later = FIRE_AT + LEASE + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        [fresh] = deliver._claim([morning.id], later)

    assert deliver._begin_sending([slow]) == []
    assert deliver._begin_sending([fresh]) == [fresh]


def test_a_webhook_carries_the_reminder_as_its_idempotency_key(prescription, monkeypatch):
    ReminderPreference.objects.update_or_create(
        patient=prescription.patient,
        defaults={"channel": "webhook", "webhook_url": "https://hooks.example.test/in"},
    )
    posted = []
    monkeypatch.setattr(
        "prescriptions.reminders.channels.send_webhook", lambda **kwargs: posted.append(kwargs)
    )
    morning = queued(prescription, channel="webhook")

    with time_machine.travel(FIRE_AT, tick=False):
        deliver.reminders_deliver(reminder_ids=[morning.id])

    [call] = posted
    assert call["idempotency_key"] == f"reminder-{morning.id}"
    assert json.loads(json.dumps(call["payload"]))["reminder"] == morning.id


def test_a_slow_batch_leaves_nothing_in_doubt_while_its_worker_is_alive(prescription):
    morning = queued(prescription)
    with time_machine.travel(FIRE_AT, tick=False):
        [claimed] = deliver._claim([morning.id], FIRE_AT)
    # The batch before it took most of the lease; the send itself begins just in time.
    with time_machine.travel(FIRE_AT + LEASE - timedelta(seconds=1), tick=False):
        assert deliver._begin_sending([claimed])
    # A tick a moment later, mid-send: the send holds a lease of its own.
    sweep(minutes=5, seconds=30)
    morning.refresh_from_db()
    assert (morning.status, morning.reason) == ("sending", "")


def a_batch(count: int) -> list[Reminder]:
    return [queued(scheduled_prescription()) for _ in range(count)]


def test_while_a_group_is_sent_the_groups_before_it_are_marked_sent(prescription, monkeypatch):
    batch = a_batch(2 * deliver.SEND_GROUP + 5)
    Reminder.objects.update(reason=IN_DOUBT)  # going again after a sweep: sent, it is not
    seen = []
    send = channels.send_email

    def send_and_look(message, **kwargs):
        seen.append(dict(Counter(Reminder.objects.values_list("status", flat=True))))
        send(message, **kwargs)

    monkeypatch.setattr(channels, "send_email", send_and_look)

    with time_machine.travel(FIRE_AT, tick=False):
        deliver.reminders_deliver(reminder_ids=[r.id for r in batch])

    # What a worker killed at any moment leaves in doubt: one group at most.
    for n, statuses in enumerate(seen):
        group_start = n - n % deliver.SEND_GROUP
        assert statuses.get("sent", 0) == group_start
        assert statuses["sending"] == min(deliver.SEND_GROUP, len(batch) - group_start)
    rows = Reminder.objects.values_list("status", "sent_at", "lease_until", "reason")
    assert set(rows) == {("sent", FIRE_AT, None, "")}
    assert len(mail.outbox) == len(batch)


def test_what_went_out_before_a_send_broke_is_marked_sent(prescription, monkeypatch):
    batch = a_batch(deliver.SEND_GROUP + 5)
    send = channels.send_email
    calls = []

    def breaks_at_the_thirteenth(message, **kwargs):
        calls.append(1)
        if len(calls) == 13:
            raise RuntimeError("a bug in the channel")
        send(message, **kwargs)

    monkeypatch.setattr(channels, "send_email", breaks_at_the_thirteenth)

    with time_machine.travel(FIRE_AT, tick=False), pytest.raises(RuntimeError):
        deliver.reminders_deliver(reminder_ids=[r.id for r in batch])

    statuses = list(Reminder.objects.order_by("id").values_list("status", flat=True))
    # The thirteenth and the rest of its group had begun: in doubt, for the sweep.
    assert statuses == ["sent"] * 12 + ["sending"] * 3
    assert len(mail.outbox) == 12
