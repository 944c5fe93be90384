"""The scheduler's minute: every slot due by now becomes a reminder, decided on the spot.

The beat's tick also looks LOOKAHEAD ahead: a reminder due within the next minute is
decided and queued now, its delivery task held by the broker until the instant it is due
(the task's eta), so neither the tick's own time nor its place in the queue makes the
reminder late. The delivery checks again at that instant (a check-in or a pause in
between still stops it).

Rules where docs/definitions.md ("Reminder times") is silent:
- A reminder is due when the prescription is active at its fire instant (for a
  heat-prepared bedtime, the earlier instant); its local date is the slot's.
- Quiet hours cover [quiet_start, quiet_end) of the local time the reminder fires.
- Every occurrence missed while the scheduler was down gets its row, `skipped` as late, so
  the history shows the gap instead of hiding it.
- A patient who has not activated their account yet gets no reminders (`skipped` with the
  reason): the address was typed by the clinic and never confirmed by its owner, and the
  patient has not yet chosen their channel or quiet hours.
- An archived patient gets no reminders either (`skipped`, so the history shows why).
- The reasons are checked in this order: checked in, archived, not activated, channel
  none, quiet hours, late.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic import events
from clinic.models import Heartbeat
from patients.models import ReminderPreference
from prescriptions import adherence
from prescriptions.models import PrescriptionSlot, Reminder, heat_minutes
from prescriptions.reminders.plan import (
    CHECKED_IN,
    LATE_LIMIT,
    checked_in_sessions,
    histories_for,
    is_late,
    plan_for,
)
from prescriptions.reminders.transports import transport_for
from prescriptions.schedule import Occurrence, next_occurrence

# Slots claimed per transaction: short locks, bounded memory.
TICK_BATCH = 1000
# Reminder ids per delivery task: few broker messages, little lost when a worker dies.
DELIVERY_BATCH = 100
IN_DOUBT = "sent again: the worker stopped while sending it (in doubt)"
IN_DOUBT_TEXT = "in doubt: the worker stopped while sending this text; not sent twice"
CHANNEL_NONE = "the patient chose no reminders (channel none)"
ARCHIVED = "the patient is archived (no longer in the clinic's care)"

logger = logging.getLogger(__name__)

ReminderStatus = Reminder.Status
Channel = ReminderPreference.Channel

# The beat ticks on the minute and slot times are whole minutes: a minute ahead, every
# reminder is queued by the tick before its instant.
LOOKAHEAD = timedelta(minutes=1)

# Queues one batch of reminder ids for delivery (the Celery task's `delay`).
Deliver = Callable[[list[int]], object]
# Queues one batch for delivery at an instant to come (the task's `apply_async` with eta).
DeliverAt = Callable[[list[int], datetime], object]


def reminders_tick(
    *, deliver: Deliver, now: datetime | None = None, deliver_at: DeliverAt | None = None
) -> int:
    """Turns every slot due by `now` (by `now + LOOKAHEAD` when `deliver_at` is given) into
    a reminder; answers how many were queued to send."""
    now = now or timezone.now()
    until = now + LOOKAHEAD if deliver_at else now
    queued = 0
    while True:
        with transaction.atomic():
            claimed, queued_ids = _tick_batch(now, until)
            transaction.on_commit(
                lambda ids=queued_ids: _enqueue_when_due(ids, now, deliver, deliver_at)
            )
        queued += len(queued_ids)
        if claimed < TICK_BATCH:
            break
    _recover_undelivered(now, deliver)
    # After the reminders, which are in a hurry: the days that began since the last tick.
    adherence.ledger_tick(now=now)
    Heartbeat.beat("scheduler", now)
    return queued


def _enqueue(reminder_ids: list[int], deliver: Deliver) -> None:
    for start in range(0, len(reminder_ids), DELIVERY_BATCH):
        deliver(reminder_ids[start : start + DELIVERY_BATCH])


def _enqueue_when_due(
    queued: list[tuple[int, datetime]],
    now: datetime,
    deliver: Deliver,
    deliver_at: DeliverAt | None,
) -> None:
    by_instant = defaultdict(list)
    for reminder_id, fire_at in queued:
        by_instant[fire_at if deliver_at and fire_at > now else None].append(reminder_id)
    for fire_at, ids in sorted(by_instant.items(), key=lambda item: item[0] or now):
        if fire_at is None:
            _enqueue(ids, deliver)
            continue
        for start in range(0, len(ids), DELIVERY_BATCH):
            deliver_at(ids[start : start + DELIVERY_BATCH], fire_at)


def lease() -> timedelta:
    """How long a delivery attempt holds the reminders it claimed."""
    return timedelta(seconds=settings.REMINDER_LEASE_SECONDS)


def _fail_in_doubt_texts(texts) -> None:
    """Text messages in doubt are not sent again: each ends `failed`, with its event."""
    with transaction.atomic():
        failed = list(
            texts.select_for_update(of=("self",)).values_list(
                "id",
                "prescription_id",
                "prescription__patient_id",
                "prescription__patient__clinic_id",
            )
        )
        if not failed:
            return
        Reminder.objects.filter(id__in=[row[0] for row in failed]).update(
            status=ReminderStatus.FAILED, reason=IN_DOUBT_TEXT, lease_until=None
        )
        events.record_each(
            events.Type.REMINDER_FAILED,
            (
                (
                    clinic_id,
                    {
                        "patient": patient_id,
                        "prescription": prescription_id,
                        "reminder": reminder_id,
                    },
                )
                for reminder_id, prescription_id, patient_id, clinic_id in failed
            ),
        )


def _recover_undelivered(now: datetime, deliver: Deliver) -> int:
    """The sweep: no reminder waits forever when a delivery message or a worker was lost.
    Answers how many were in doubt (their send had begun when the worker stopped)."""
    # Claimed, but the lease ran out before sending began: nothing went out, so the
    # reminder simply goes back to the queue (a late holder's fenced update then fails).
    expired = Reminder.objects.filter(status=ReminderStatus.QUEUED, lease_until__lt=now)
    released = list(expired.values_list("id", flat=True))
    expired.filter(id__in=released).update(lease_until=None)
    # The channel call had begun: the message may have gone out. Email and webhook go again
    # under the same Message-ID or Idempotency-Key, so the receiver drops a repeat; a text
    # message cannot be told apart from a repeat, so it is not sent twice (the transport's
    # `resend_in_doubt`).
    stopped = Reminder.objects.filter(status=ReminderStatus.SENDING, lease_until__lt=now)
    in_doubt = dict(stopped.values_list("id", "channel"))
    if in_doubt:
        logger.warning("%d reminders in doubt after a worker stopped mid-send", len(in_doubt))
    resend = [id_ for id_, channel in in_doubt.items() if transport_for(channel).resend_in_doubt]
    texts = sorted(in_doubt.keys() - set(resend))
    if texts:
        _fail_in_doubt_texts(stopped.filter(id__in=texts))
    stopped.filter(id__in=resend).update(
        status=ReminderStatus.QUEUED, reason=IN_DOUBT, lease_until=None
    )
    # Never attempted this long after it was queued: its message was lost (a broker that
    # restarted without its data). Long enough by default for a backlog to drain first.
    # And any left waiting past the hour (a retry whose message was lost): the delivery
    # closes those as skipped, too late, with the reason.
    stranded = Reminder.objects.filter(
        Q(
            attempts=0,
            created_at__lte=now - timedelta(seconds=settings.REMINDER_STRANDED_AFTER_SECONDS),
        )
        | Q(fire_at__lt=now - LATE_LIMIT),
        status=ReminderStatus.QUEUED,
        lease_until__isnull=True,
    ).values_list("id", flat=True)
    _enqueue(sorted({*released, *resend, *stranded}), deliver)
    return len(in_doubt)


def in_quiet_hours(start: time | None, end: time | None, local_time: time) -> bool:
    if start is None or end is None:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end  # the window wraps past midnight


class DueSlot(NamedTuple):
    """A due slot with what the tick decides on, read as plain values: building model
    instances for tens of thousands of rows a minute would cost more than the queries."""

    id: int
    kind: str
    time: time
    next_fire_at: datetime
    prescription_id: int
    start_date: date
    end_date: date | None
    status: str
    heat_prep: bool
    protocol_heat_minutes: int
    timezone: str
    archived_at: datetime | None
    activated: bool
    channel: str | None  # None until the patient saves preferences: email
    quiet_start: time | None
    quiet_end: time | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def heat_minutes(self) -> int:
        return heat_minutes(self.heat_prep, self.protocol_heat_minutes)


DUE_SLOT_FIELDS = (
    "id",
    "kind",
    "time",
    "next_fire_at",
    "prescription_id",
    "prescription__start_date",
    "prescription__end_date",
    "prescription__status",
    "prescription__heat_prep",
    "prescription__protocol__heat_prep_minutes",
    "prescription__patient__timezone",
    "prescription__patient__archived_at",
    "prescription__patient__user__is_active",
    "prescription__patient__reminder_preference__channel",
    "prescription__patient__reminder_preference__quiet_start",
    "prescription__patient__reminder_preference__quiet_end",
)


def reminder_decision(
    occurrence: Occurrence, slot: DueSlot, checked_in: bool, now: datetime
) -> tuple[str, str]:
    """The new reminder's status and, when skipped, why."""
    if checked_in:
        return ReminderStatus.SKIPPED, CHECKED_IN
    if slot.archived_at is not None:
        return ReminderStatus.SKIPPED, ARCHIVED
    if not slot.activated:
        return ReminderStatus.SKIPPED, "the patient has not activated their account yet"
    if slot.channel == Channel.NONE:
        return ReminderStatus.SKIPPED, CHANNEL_NONE
    local_time = occurrence.fire_at.astimezone(slot.zone).time()
    if in_quiet_hours(slot.quiet_start, slot.quiet_end, local_time):
        return ReminderStatus.SKIPPED, "inside the patient's quiet hours"
    if is_late(occurrence.fire_at, now):
        late = now - occurrence.fire_at
        return (
            ReminderStatus.SKIPPED,
            f"too late to send ({int(late.total_seconds() // 60)} min late)",
        )
    return ReminderStatus.QUEUED, ""


def _tick_batch(now: datetime, until: datetime) -> tuple[int, list[tuple[int, datetime]]]:
    """Claims one batch of slots due by `until`, records their reminders and moves the slots
    on; answers how many slots it claimed and the reminders queued to send (id, instant)."""
    slots = _lock_due_slots(until)
    if not slots:
        return 0, []
    due, moves = _due_occurrences(slots, until)
    new = _new_reminders(due, now)
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    # Slots due together mostly move on together (same local time, same zone): one UPDATE
    # per distinct next instant is far cheaper than bulk_update's CASE over every row.
    for next_fire_at, ids in moves.items():
        PrescriptionSlot.objects.filter(id__in=ids).update(next_fire_at=next_fire_at)
    return len(slots), _queued_ids(new)


def _lock_due_slots(until: datetime) -> list[DueSlot]:
    return [
        DueSlot(*row)
        for row in PrescriptionSlot.objects.filter(next_fire_at__lte=until)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_fire_at", "id")
        .values_list(*DUE_SLOT_FIELDS)[:TICK_BATCH]
    ]


def _due_occurrences(
    slots: list[DueSlot], until: datetime
) -> tuple[list[tuple[DueSlot, Occurrence]], dict[datetime | None, list[int]]]:
    """Every occurrence due by `until` of each slot, and the slot ids grouped by the instant
    each moves on to."""
    histories = histories_for({slot.prescription_id for slot in slots})
    due = []
    moves = defaultdict(list)
    for slot in slots:
        plan = plan_for(slot, histories[slot.prescription_id])
        # The stored instant may be stale (a change that did not reschedule): recompute
        # from the rules, starting at it.
        cursor = slot.next_fire_at - timedelta(microseconds=1)
        while (occurrence := next_occurrence(plan, slot.kind, slot.time, cursor)) and (
            occurrence.fire_at <= until
        ):
            due.append((slot, occurrence))
            cursor = occurrence.fire_at
        moves[occurrence.fire_at if occurrence else None].append(slot.id)
    return due, moves


def _new_reminders(due: list[tuple[DueSlot, Occurrence]], now: datetime) -> list[Reminder]:
    """Unsaved reminders for the occurrences that have none yet."""
    prescription_ids = {slot.prescription_id for slot, _ in due}
    dates = {occurrence.local_date for _, occurrence in due}
    checked_in = checked_in_sessions(prescription_ids, dates)
    existing = set(
        Reminder.objects.filter(
            prescription_id__in=prescription_ids, local_date__in=dates
        ).values_list("prescription_id", "slot", "local_date")
    )
    new = []
    for slot, occurrence in due:
        key = (slot.prescription_id, occurrence.slot, occurrence.local_date)
        if key in existing:
            continue
        existing.add(key)
        status, reason = reminder_decision(occurrence, slot, key in checked_in, now)
        new.append(
            Reminder(
                prescription_id=slot.prescription_id,
                slot=occurrence.slot,
                local_date=occurrence.local_date,
                fire_at=occurrence.fire_at,
                channel=slot.channel or Channel.EMAIL,
                status=status,
                reason=reason,
            )
        )
    return new


def _queued_ids(new: list[Reminder]) -> list[tuple[int, datetime]]:
    """The ids and instants of the queued ones among `new` (bulk_create with
    ignore_conflicts leaves the ids unset), as the database now holds them."""
    wanted = {
        (r.prescription_id, r.slot, r.local_date) for r in new if r.status == ReminderStatus.QUEUED
    }
    return sorted(
        (reminder_id, fire_at)
        for reminder_id, fire_at, *key in Reminder.objects.filter(
            prescription_id__in={key[0] for key in wanted},
            local_date__in={key[2] for key in wanted},
            status=ReminderStatus.QUEUED,
        ).values_list("id", "fire_at", "prescription_id", "slot", "local_date")
        if tuple(key) in wanted
    )
