"""Sending: a batch of queued reminders is claimed with a lease (`lease_until`), so a task
delivered twice sends once; each is checked again (a check-in, a pause may have come since
the tick), marked `sending` just before the channel calls and `sent` right after, a group
of SEND_GROUP at a time (a commit per reminder cost more than the sending). A failure is
retried with backoff and jitter; the last failure leaves the reminder `failed`.

A worker killed mid-batch leaves its unsent claims to the tick's sweep once the lease runs
out: they are queued again and sent, nothing is lost. Only the group it was sending (at
most SEND_GROUP emails or webhooks, or one text message, per worker process) is in doubt;
emails and webhooks go again under the same Message-ID or Idempotency-Key, so the receiver
can drop the repeat.
"""

import logging
import random
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.core.mail import get_connection
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from patients.models import ReminderPreference
from prescriptions import channels
from prescriptions.models import Prescription, Reminder
from prescriptions.reminders.messages import Message
from prescriptions.reminders.plan import CHECKED_IN, checked_in_sessions, histories_for, is_late
from prescriptions.reminders.prepare import Prepared, prepared_for
from prescriptions.reminders.tick import ARCHIVED, CHANNEL_NONE, lease
from prescriptions.schedule import status_at

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 600
# Emails and webhooks marked `sending`, then `sent`, together: a killed worker process leaves
# at most this many in doubt, and the batch commits twice per group instead of per reminder.
SEND_GROUP = 10

ReminderStatus = Reminder.Status
Channel = ReminderPreference.Channel


def webhook_payload(reminder: Reminder, message: Message) -> dict:
    return {
        "event": "reminder",
        "reminder": reminder.id,
        "prescription": reminder.prescription_id,
        "slot": reminder.slot,
        "local_date": reminder.local_date.isoformat(),
        "fire_at": reminder.fire_at.isoformat(),
        "title": message.subject,
        "message": message.text,
        "checkin_url": message.checkin_url,
    }


def retry_delay(attempts: int) -> float:
    """Exponential backoff with full jitter, so retries after an outage spread out."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def _claim(reminder_ids: list[int], now: datetime) -> list[Reminder]:
    """Takes the reminders still waiting to be sent and holds them for this attempt."""
    with transaction.atomic():
        # Found by primary key alone, the status checked here: asked for `queued` in SQL,
        # the planner may pick the partial index of queued reminders, which right after a
        # tick holds the whole minute and its dead entries (as _begin_sending found).
        rows = (
            Reminder.objects.filter(id__in=reminder_ids)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            # Each table by a query of its own: during a burst, planning the join of four
            # took 12 ms a batch against 0.6 ms to run it; the five plain queries 3 ms.
            .prefetch_related(
                "prescription__patient__reminder_preference", "prescription__protocol"
            )
            .select_for_update(skip_locked=True)
            .order_by("id")
        )
        claimed = [r for r in rows if r.status == ReminderStatus.QUEUED]
        lease_until = now + lease()
        Reminder.objects.filter(id__in=[r.id for r in claimed]).update(
            lease_until=lease_until, attempts=F("attempts") + 1
        )
    for reminder in claimed:
        reminder.attempts += 1
        reminder.lease_until = lease_until
    return claimed


def _begin_sending(group: list[Reminder]) -> list[Reminder]:
    """Marks a group `sending` just before its channel calls, those this attempt still
    holds: a lease that ran out (a slow batch) may have let the sweep hand one to another
    worker. The sends get a lease of their own, so that only a worker that stopped while
    sending leaves reminders in doubt, however long the batch before them took."""
    renewed = timezone.now() + lease()
    ids = [r.id for r in group]
    instant = connection.ops.adapt_datetimefield_value
    # One statement that answers which rows it took (the ORM's update only counts them):
    # it runs once per group, on the path every reminder takes. The claim's lease is the
    # fence: every other change to a reminder (sent, skipped, released by the sweep, sent
    # by another attempt) rewrites `lease_until`, so a row still holding it is queued and
    # ours. (A `status` condition here let the planner pick the partial index of queued
    # reminders, full of dead entries right after a tick: 4 ms instead of 0.5.)
    with _durable_if(_is_text(group)), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Reminder._meta.db_table} SET status = %s, lease_until = %s"
            f" WHERE id IN ({', '.join(['%s'] * len(ids))}) AND lease_until = %s RETURNING id",
            [
                ReminderStatus.SENDING,
                instant(renewed),
                *ids,
                instant(group[0].lease_until),  # one claim, one lease for the whole batch
            ],
        )
        taken = {row[0] for row in cursor.fetchall()}
    return [r for r in group if r.id in taken]


def _send_groups(reminders: list[Reminder]):
    """The reminders in the groups marked `sending` together, so a killed worker leaves at
    most SEND_GROUP in doubt. An email or a webhook in doubt goes again under the same
    Message-ID / Idempotency-Key; a text message in doubt is never sent twice (it is
    failed), so each text goes alone and only the one being sent can be in doubt."""
    group = []
    for reminder in reminders:
        if reminder.channel == Channel.SMS:
            yield [reminder]
            continue
        group.append(reminder)
        if len(group) == SEND_GROUP:
            yield group
            group = []
    if group:
        yield group


def _is_text(group: list[Reminder]) -> bool:
    return group[0].channel == Channel.SMS


@contextmanager
def _marks_without_waiting():
    """The batch's marks commit without waiting for the disk (PostgreSQL's
    synchronous_commit off): a commit waiting for its flush cost more than the sending.

    A database that crashes may forget the last fraction of a second of them, and a
    forgotten mark (sending, sent, skipped, failed) only sends an email or a webhook again
    under the same Message-ID / Idempotency-Key, like one in doubt; never fewer. A text
    message cannot be told apart from a repeat: its marks wait (`_durable_if`).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            pass  # a broken connection is closed after the task, its setting with it


@contextmanager
def _durable_if(durable: bool):
    if not durable or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO ON")
        yield


def _finish(ids: list[int], status: str, reason: str = "", *, durable: bool = False) -> None:
    if not ids:
        return
    with _durable_if(durable):
        Reminder.objects.filter(id__in=ids).update(
            status=status,
            reason=reason[:255],
            sent_at=timezone.now() if status == ReminderStatus.SENT else None,
            lease_until=None,
        )


class _Connections:
    """The email connection and SMS backend of one batch, opened when first needed."""

    def __init__(self) -> None:
        self.email = None
        self.sms = None

    def open_for(self, channel: str) -> None:
        if channel == Channel.EMAIL and self.email is None:
            self.email = get_connection()
            self.email.open()
        if channel == Channel.SMS and self.sms is None:
            self.sms = channels.sms_backend()

    def close(self) -> None:
        if self.email is not None:
            self.email.close()


def reminders_deliver(*, reminder_ids: list[int]) -> dict[int, int]:
    """Sends the given reminders that are still queued; answers those to try again, as
    {id: attempts so far}."""
    now = timezone.now()
    claimed = _claim(reminder_ids, now)
    if not claimed:
        return {}
    prescription_ids = {r.prescription_id for r in claimed}
    histories = histories_for(prescription_ids)
    checked_in = checked_in_sessions(prescription_ids, {r.local_date for r in claimed})
    texts = _texts_sent(claimed)
    skipped = defaultdict(list)
    to_send = []
    for reminder in claimed:
        history = tuple(histories[reminder.prescription_id])
        reason = _skip_reason(reminder, history, checked_in, now)
        if not reason and reminder.channel == Channel.SMS:
            day = (reminder.prescription.patient_id, reminder.local_date)
            if texts[day] >= settings.SMS_DAILY_LIMIT_PER_PATIENT:
                reason = SMS_LIMIT_REACHED
            texts[day] += 1
        if reason:
            skipped[reason].append(reminder.id)
        else:
            to_send.append(reminder)
    with _marks_without_waiting():
        for reason, ids in skipped.items():
            _finish(ids, ReminderStatus.SKIPPED, reason)
        return _send_all(to_send, prepared_for(to_send, now))


def _send_all(to_send: list[Reminder], prepared: dict[int, Prepared]) -> dict[int, int]:
    retry = {}
    connections = _Connections()
    try:
        for group in _send_groups(to_send):
            sent = []
            for reminder in group:  # before `sending`: a mail server that is down fails early
                connections.open_for(reminder.channel)
            for reminder in _begin_sending(group):
                outcome = _send_and_record(reminder, prepared[reminder.id], connections)
                if outcome == ReminderStatus.SENT:
                    sent.append(reminder.id)
                elif outcome == ReminderStatus.QUEUED:
                    retry[reminder.id] = reminder.attempts
            _finish(sent, ReminderStatus.SENT, durable=_is_text(group))
    finally:
        connections.close()
    return retry


SMS_LIMIT_REACHED = "the daily limit of text messages for this patient is reached"


def _texts_sent(claimed: list[Reminder]) -> Counter:
    """Text messages already sent, by (patient, local date), for the days in `claimed`."""
    texts = [r for r in claimed if r.channel == Channel.SMS]
    if not texts:
        return Counter()
    rows = (
        Reminder.objects.filter(
            channel=Channel.SMS,
            status=ReminderStatus.SENT,
            prescription__patient_id__in={r.prescription.patient_id for r in texts},
            local_date__in={r.local_date for r in texts},
        )
        .values_list("prescription__patient_id", "local_date")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({(patient_id, day): n for patient_id, day, n in rows})


def _skip_reason(reminder: Reminder, history, checked_in: set, now: datetime) -> str:
    """Why a claimed reminder should no longer go out ("" when it should)."""
    if (reminder.prescription_id, reminder.slot, reminder.local_date) in checked_in:
        return CHECKED_IN
    if reminder.prescription.patient.archived_at is not None:
        return ARCHIVED
    status = status_at(history, reminder.fire_at, current=reminder.prescription.status)
    if status != Prescription.Status.ACTIVE:
        return f"the prescription is {status}"
    if is_late(reminder.fire_at, now):
        return "too late to send (delivery was delayed)"
    if _preference(reminder.prescription.patient).channel == Channel.NONE:
        # Stopped after the tick queued it (a one-click stop a minute ago): honour it.
        return CHANNEL_NONE
    return ""


def _send_and_record(reminder: Reminder, prepared: Prepared, connections: _Connections) -> str:
    """Sends one reminder; records a failure, and answers the status it ends in (`sent` is
    recorded by the caller for the whole group)."""
    try:
        _send(reminder, prepared, email=connections.email, sms=connections.sms)
    except channels.PermanentDeliveryError as error:
        _finish([reminder.id], ReminderStatus.FAILED, str(error))
        return ReminderStatus.FAILED
    except channels.DeliveryError as error:
        logger.warning("reminder %s try %s: %s", reminder.id, reminder.attempts, error)
        if reminder.attempts >= MAX_ATTEMPTS:
            reason = f"{error} (after {reminder.attempts} tries)"
            _finish([reminder.id], ReminderStatus.FAILED, reason)
            return ReminderStatus.FAILED
        # The channel said it did not go out: back in the queue for the retry.
        with _durable_if(reminder.channel == Channel.SMS):
            Reminder.objects.filter(id=reminder.id).update(
                status=ReminderStatus.QUEUED,
                reason=f"try {reminder.attempts} failed: {error}"[:255],
                lease_until=None,
            )
        return ReminderStatus.QUEUED
    return ReminderStatus.SENT


def _preference(patient) -> ReminderPreference:
    try:
        return patient.reminder_preference
    except ReminderPreference.DoesNotExist:
        return ReminderPreference(patient=patient)


def _send(reminder: Reminder, prepared: Prepared, *, email, sms) -> None:
    patient = reminder.prescription.patient
    message = prepared.message
    if reminder.channel == Channel.EMAIL:
        channels.send_email(prepared.email, connection=email)
    elif reminder.channel == Channel.SMS:
        channels.send_sms(to=patient.phone, body=message.sms, backend=sms)
    elif reminder.channel == Channel.WEBHOOK:
        preference = _preference(patient)
        channels.send_webhook(
            url=preference.webhook_url,
            secret=preference.webhook_secret,
            payload=webhook_payload(reminder, message),
            idempotency_key=f"reminder-{reminder.id}",
        )
    else:
        raise channels.PermanentDeliveryError(f"unknown channel {reminder.channel!r}")
