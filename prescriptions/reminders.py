"""Reminders: due → claim → deliver.

The database is the scheduler. Every `PrescriptionSlot` holds `next_fire_at`, the next
instant it is due (see schedule.py for the rules), so one periodic tick finds what is due
with an indexed range query, however many patients there are:

1. `reminders_tick` locks the due slots (`SKIP LOCKED` on PostgreSQL, so overlapping ticks
   never take the same slot; SQLite's IMMEDIATE transactions serialise them), decides each
   reminder there and then (`queued`, or `skipped` with its reason), inserts it under the
   unique (prescription, slot, local_date) constraint, advances `next_fire_at` and, after
   commit, queues one delivery task per batch of reminder ids.
2. `reminders_deliver` claims each queued reminder before sending it, so a task delivered
   twice sends once, checks again that nothing changed (a check-in, a pause), sends it on
   the patient's channel and records the outcome; a failure is retried with backoff and
   jitter, and the last failure leaves the reminder `failed` with the reason.
3. Each tick also recovers what a lost message or a killed worker left behind: a reminder
   never attempted is queued again while still on time; one left mid-attempt is closed as
   `failed` once too late, since it may already have been sent.

Rules where the contract is silent:
- A reminder is due when the prescription is active at its fire instant (for a
  heat-prepared bedtime, the earlier instant); its local date is the slot's.
- Quiet hours cover [quiet_start, quiet_end) of the local time the reminder fires.
- Every occurrence missed while the scheduler was down gets its row, `skipped` as late, so
  the history shows the gap instead of hiding it.
- The reasons are checked in this order: checked in, channel none, quiet hours, late.
- A worker that dies after sending but before recording leaves the reminder held; the
  broker hands the task over again after its visibility timeout (an hour), by which time
  the reminder is too late and is skipped, not sent twice.
"""

import logging
import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from clinic.models import Heartbeat
from patients.models import ReminderPreference, new_webhook_secret
from prescriptions import channels
from prescriptions.models import CheckIn, Prescription, PrescriptionSlot, Reminder, StatusChange
from prescriptions.schedule import Occurrence, Plan, next_occurrence, status_at

logger = logging.getLogger(__name__)

# Later than this, a reminder would arrive at a time nobody chose (maybe the middle of the
# night after an outage): it is recorded as skipped instead.
LATE_LIMIT = timedelta(minutes=60)
# Slots claimed per transaction: short locks, bounded memory.
TICK_BATCH = 1000
# Reminder ids per delivery task: few broker messages, little lost when a worker dies.
DELIVERY_BATCH = 100
MAX_ATTEMPTS = 4
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 600
# How long a delivery attempt holds a reminder; longer than any send may take (the
# webhook timeout is 5 s), so no second attempt starts while the first may still succeed.
CLAIM_LEASE = timedelta(minutes=5)
# A queued reminder that no delivery attempt has touched this long after it was created
# lost its message (a broker restarted without its data, a dropped task): the tick queues
# it again. Long enough that a backlog of tens of thousands drains first.
STRANDED_AFTER = timedelta(minutes=10)

Status = Reminder.Status
Channel = ReminderPreference.Channel


# --- Schedule ---------------------------------------------------------------------------


def plan_for(
    prescription: Prescription,
    history: Iterable[tuple[datetime, str]],
    slots: Iterable[PrescriptionSlot] = (),
) -> Plan:
    """The pure description of a prescription's reminder times (`slots` only matter to
    `schedule.occurrences`)."""
    return Plan(
        tz=ZoneInfo(prescription.patient.timezone),
        start_date=prescription.start_date,
        end_date=prescription.end_date,
        slots=tuple((slot.kind, slot.time) for slot in slots),
        heat_prep_minutes=prescription.protocol.heat_prep_minutes if prescription.heat_prep else 0,
        history=tuple(history),
        status=prescription.status,
    )


def histories_for(prescription_ids: Iterable[int]) -> dict[int, list[tuple[datetime, str]]]:
    histories = defaultdict(list)
    rows = StatusChange.objects.filter(prescription_id__in=list(prescription_ids)).order_by(
        "effective_at", "id"
    )
    for prescription_id, effective_at, status in rows.values_list(
        "prescription_id", "effective_at", "status"
    ):
        histories[prescription_id].append((effective_at, status))
    return histories


def slots_reschedule(*, prescription_id: int, now: datetime | None = None) -> None:
    """Recomputes the next fire instant of each slot of the prescription.

    Called (inside the transaction) after a prescription is created or changed, its status
    changes, or its patient's time zone changes. It looks back as far as a reminder may be
    late, so an edit made just after a slot came due does not drop that reminder; one that
    was already created is not created again (the tick checks, the constraint enforces).
    """
    now = now or timezone.now()
    prescription = Prescription.objects.select_related("patient", "protocol").get(
        id=prescription_id
    )
    plan = plan_for(prescription, histories_for([prescription_id])[prescription_id])
    slots = list(prescription.slots.all())
    for slot in slots:
        occurrence = next_occurrence(plan, slot.kind, slot.time, now - LATE_LIMIT)
        slot.next_fire_at = occurrence.fire_at if occurrence else None
    PrescriptionSlot.objects.bulk_update(slots, ["next_fire_at"])


def on_timezone_changed(sender, *, patient_id: int, **kwargs) -> None:
    """Sent after commit: the reminder times move to the patient's new zone at once, so the
    next tick already fires at the new local times."""
    patient_slots_reschedule(patient_id=patient_id)


def patient_slots_reschedule(*, patient_id: int) -> None:
    """Reschedules every prescription of a patient that may still remind."""
    ids = Prescription.objects.filter(patient_id=patient_id).exclude(
        status=Prescription.Status.ENDED
    )
    for prescription_id in ids.values_list("id", flat=True):
        with transaction.atomic():
            slots_reschedule(prescription_id=prescription_id)


# --- Preferences ------------------------------------------------------------------------


@transaction.atomic
def reminder_preference_update(
    *, preference: ReminderPreference, changes: dict, rotate_webhook_secret: bool = False
) -> tuple[ReminderPreference, str | None]:
    """Saves validated preference changes; answers the new webhook secret when there is
    one (a new or changed webhook_url, or a rotation), which the caller shows once."""
    new_url = changes.get("webhook_url")
    url_changed = bool(new_url) and new_url != preference.webhook_url
    for field, value in changes.items():
        setattr(preference, field, value)
    new_secret = None
    if url_changed or rotate_webhook_secret:
        new_secret = new_webhook_secret()
        preference.webhook_secret = new_secret
    preference.save()
    return preference, new_secret


# --- Tick -------------------------------------------------------------------------------


def reminders_tick(*, now: datetime | None = None) -> int:
    """Turns every slot due by `now` into a reminder; answers how many were queued to send."""
    now = now or timezone.now()
    queued = 0
    while True:
        with transaction.atomic():
            claimed, queued_ids = _tick_batch(now)
            transaction.on_commit(lambda ids=queued_ids: enqueue_delivery(ids))
        queued += len(queued_ids)
        if claimed < TICK_BATCH:
            break
    _recover_undelivered(now)
    Heartbeat.beat("scheduler", now)
    return queued


def _recover_undelivered(now: datetime) -> None:
    """Leaves no reminder waiting forever when a delivery message or a worker was lost."""
    waiting = Reminder.objects.filter(status=Status.QUEUED)
    stranded = waiting.filter(
        attempts=0, created_at__lte=now - STRANDED_AFTER, fire_at__gte=now - LATE_LIMIT
    )
    enqueue_delivery(list(stranded.values_list("id", flat=True)))
    # A worker killed mid-batch leaves reminders it may or may not have sent: sending them
    # again could send twice, so once it is too late anyway they are closed as failed.
    waiting.filter(fire_at__lt=now - LATE_LIMIT - CLAIM_LEASE).update(
        status=Status.FAILED,
        reason="delivery was interrupted and it is now too late to send",
        claimed_until=None,
    )


def enqueue_delivery(reminder_ids: list[int]) -> None:
    from prescriptions.tasks import deliver_reminders  # tasks.py imports this module

    for start in range(0, len(reminder_ids), DELIVERY_BATCH):
        deliver_reminders.delay(reminder_ids[start : start + DELIVERY_BATCH])


def _preference(patient) -> ReminderPreference:
    try:
        return patient.reminder_preference
    except ReminderPreference.DoesNotExist:
        return ReminderPreference(patient=patient)


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
    heat_prep_minutes: int
    timezone: str
    channel: str | None  # None until the patient saves preferences: email
    quiet_start: time | None
    quiet_end: time | None

    def plan(self, history) -> Plan:
        return Plan(
            tz=ZoneInfo(self.timezone),
            start_date=self.start_date,
            end_date=self.end_date,
            slots=(),
            heat_prep_minutes=self.heat_prep_minutes if self.heat_prep else 0,
            history=tuple(history),
            status=self.status,
        )


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
    "prescription__patient__reminder_preference__channel",
    "prescription__patient__reminder_preference__quiet_start",
    "prescription__patient__reminder_preference__quiet_end",
)


def _decide(occurrence: Occurrence, slot: DueSlot, checked_in: bool, now) -> tuple[str, str]:
    if checked_in:
        return Status.SKIPPED, "already checked in for this session"
    if slot.channel == Channel.NONE:
        return Status.SKIPPED, "the patient chose no reminders (channel none)"
    local_time = occurrence.fire_at.astimezone(ZoneInfo(slot.timezone)).time()
    if in_quiet_hours(slot.quiet_start, slot.quiet_end, local_time):
        return Status.SKIPPED, "inside the patient's quiet hours"
    late = now - occurrence.fire_at
    if late > LATE_LIMIT:
        return Status.SKIPPED, f"too late to send ({int(late.total_seconds() // 60)} min late)"
    return Status.QUEUED, ""


def _tick_batch(now: datetime) -> tuple[int, list[int]]:
    slots = [
        DueSlot(*row)
        for row in PrescriptionSlot.objects.filter(next_fire_at__lte=now)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_fire_at", "id")
        .values_list(*DUE_SLOT_FIELDS)[:TICK_BATCH]
    ]
    if not slots:
        return 0, []
    prescription_ids = {slot.prescription_id for slot in slots}
    histories = histories_for(prescription_ids)

    due: list[tuple[DueSlot, Occurrence]] = []
    moves = defaultdict(list)
    for slot in slots:
        plan = slot.plan(histories[slot.prescription_id])
        # The stored instant may be stale (a change that did not reschedule): recompute
        # from the rules, starting at it.
        cursor = slot.next_fire_at - timedelta(microseconds=1)
        while (occurrence := next_occurrence(plan, slot.kind, slot.time, cursor)) and (
            occurrence.fire_at <= now
        ):
            due.append((slot, occurrence))
            cursor = occurrence.fire_at
        moves[occurrence.fire_at if occurrence else None].append(slot.id)

    dates = {occurrence.local_date for _, occurrence in due}
    checked_in = set(
        CheckIn.objects.filter(
            prescription_id__in=prescription_ids, local_date__in=dates
        ).values_list("prescription_id", "slot", "local_date")
    )
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
        status, reason = _decide(occurrence, slot, key in checked_in, now)
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
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    # Slots due together mostly move on together (same local time, same zone): one UPDATE
    # per distinct next instant is far cheaper than bulk_update's CASE over every row.
    for next_fire_at, ids in moves.items():
        PrescriptionSlot.objects.filter(id__in=ids).update(next_fire_at=next_fire_at)

    wanted = {(r.prescription_id, r.slot, r.local_date) for r in new if r.status == Status.QUEUED}
    queued_ids = [
        reminder_id
        for reminder_id, *key in Reminder.objects.filter(
            prescription_id__in={key[0] for key in wanted},
            local_date__in={key[2] for key in wanted},
            status=Status.QUEUED,
        ).values_list("id", "prescription_id", "slot", "local_date")
        if tuple(key) in wanted
    ]
    return len(slots), sorted(queued_ids)


# --- Delivery ---------------------------------------------------------------------------


def reminder_text(reminder: Reminder, *, heat_minutes: int) -> tuple[str, str]:
    """Subject and body, written for a patient reading them on a phone."""
    if reminder.slot == "morning":
        return (
            "Knee rocks before you get up",
            "Good morning. Before you get out of bed, stay on your back, bend your knees "
            "and rock them slowly from side to side for a few minutes, staying well "
            "within what feels easy. Then get up and log your session in the app.",
        )
    rocks = (
        "lying on your back with knees bent, rock them gently side to side until your back "
        "feels looser. Small and easy is enough. Log the session in the app when you are done."
    )
    if heat_minutes:
        return (
            "Start the heat, then knee rocks",
            f"Bedtime. First put moist heat on your lower back and leave it there for about "
            f"{heat_minutes} minutes. Then, {rocks}",
        )
    return "Knee rocks before sleep", f"Bedtime. {rocks[0].upper()}{rocks[1:]}"


def webhook_payload(reminder: Reminder, subject: str, body: str) -> dict:
    return {
        "event": "reminder",
        "reminder": reminder.id,
        "prescription": reminder.prescription_id,
        "slot": reminder.slot,
        "local_date": reminder.local_date.isoformat(),
        "fire_at": reminder.fire_at.isoformat(),
        "title": subject,
        "message": body,
    }


def retry_delay(attempts: int) -> float:
    """Exponential backoff with full jitter, so retries after an outage spread out."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def _claim(reminder_ids: list[int], now: datetime) -> list[Reminder]:
    """Takes the reminders still waiting to be sent and holds them for this attempt."""
    with transaction.atomic():
        claimed = list(
            Reminder.objects.filter(id__in=reminder_ids, status=Status.QUEUED)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .select_related("prescription__patient__reminder_preference", "prescription__protocol")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
        )
        Reminder.objects.filter(id__in=[r.id for r in claimed]).update(
            claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1
        )
    for reminder in claimed:
        reminder.attempts += 1
    return claimed


def _finish(reminder: Reminder, status: str, reason: str = "") -> None:
    Reminder.objects.filter(id=reminder.id).update(
        status=status,
        reason=reason[:255],
        sent_at=timezone.now() if status == Status.SENT else None,
        claimed_until=None,
    )


def reminders_deliver(*, reminder_ids: list[int]) -> dict[int, int]:
    """Sends the given reminders that are still queued; answers those to try again, as
    {id: attempts so far}."""
    now = timezone.now()
    claimed = _claim(reminder_ids, now)
    if not claimed:
        return {}
    prescription_ids = {r.prescription_id for r in claimed}
    histories = histories_for(prescription_ids)
    checked_in = set(
        CheckIn.objects.filter(
            prescription_id__in=prescription_ids, local_date__in={r.local_date for r in claimed}
        ).values_list("prescription_id", "slot", "local_date")
    )
    retry = {}
    email = None
    sms = None
    try:
        for reminder in claimed:
            prescription = reminder.prescription
            status = status_at(
                tuple(histories[prescription.id]), reminder.fire_at, current=prescription.status
            )
            if (reminder.prescription_id, reminder.slot, reminder.local_date) in checked_in:
                _finish(reminder, Status.SKIPPED, "already checked in for this session")
                continue
            if status != Prescription.Status.ACTIVE:
                _finish(reminder, Status.SKIPPED, f"the prescription is {status}")
                continue
            if now - reminder.fire_at > LATE_LIMIT:
                _finish(reminder, Status.SKIPPED, "too late to send (delivery was delayed)")
                continue
            if reminder.channel == Channel.EMAIL and email is None:
                email = get_connection()
                email.open()
            if reminder.channel == Channel.SMS and sms is None:
                sms = channels.sms_backend()
            try:
                _send(reminder, email=email, sms=sms)
            except channels.PermanentDeliveryError as error:
                _finish(reminder, Status.FAILED, str(error))
            except channels.DeliveryError as error:
                logger.warning("reminder %s try %s: %s", reminder.id, reminder.attempts, error)
                if reminder.attempts >= MAX_ATTEMPTS:
                    _finish(reminder, Status.FAILED, f"{error} (after {reminder.attempts} tries)")
                else:
                    Reminder.objects.filter(id=reminder.id).update(
                        reason=f"try {reminder.attempts} failed: {error}"[:255],
                        claimed_until=None,
                    )
                    retry[reminder.id] = reminder.attempts
            else:
                _finish(reminder, Status.SENT)
    finally:
        if email is not None:
            email.close()
    return retry


def _send(reminder: Reminder, *, email, sms) -> None:
    prescription = reminder.prescription
    patient = prescription.patient
    heat_minutes = prescription.protocol.heat_prep_minutes if prescription.heat_prep else 0
    subject, body = reminder_text(reminder, heat_minutes=heat_minutes)
    if reminder.channel == Channel.EMAIL:
        channels.send_email(to=patient.email, subject=subject, body=body, connection=email)
    elif reminder.channel == Channel.SMS:
        channels.send_sms(to=patient.phone, body=f"{subject}: {body}", backend=sms)
    elif reminder.channel == Channel.WEBHOOK:
        preference = _preference(patient)
        channels.send_webhook(
            url=preference.webhook_url,
            secret=preference.webhook_secret,
            payload=webhook_payload(reminder, subject, body),
        )
    else:
        raise channels.PermanentDeliveryError(f"unknown channel {reminder.channel!r}")
