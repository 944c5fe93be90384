"""Sending: a batch of queued reminders is claimed with a lease (`lease_until`), so a task
delivered twice sends once; each is checked again (a check-in, a pause may have come since
the tick), marked `sending` just before the channel calls and `sent` right after, a group
of SEND_GROUP at a time (a commit per reminder cost more than the sending), one statement
marking a group `sent` and the next `sending`. A failure is retried with backoff and
jitter; the last failure leaves the reminder `failed`.

At a burst's instant this is the path every reminder takes, so the claim is two SQL texts
written once (lease, then one read of what the checks and the send need, the checks'
facts as subqueries) and the marks are SQL too; the message itself was prepared in the
minute before (prepare.py).

A worker killed mid-batch leaves its unsent claims to the tick's sweep once the lease runs
out: they are queued again and sent, nothing is lost. Only the group it was sending (at
most SEND_GROUP emails or webhooks, or one text message, per worker process) is in doubt;
emails and webhooks go again under the same Message-ID or Idempotency-Key, so the receiver
can drop the repeat.
"""

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import NamedTuple

from django.conf import settings
from django.core.mail import get_connection
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic import events
from patients.models import Patient, ReminderPreference
from prescriptions import channels
from prescriptions.models import (
    CheckIn,
    Prescription,
    Protocol,
    Reminder,
    StatusChange,
    heat_minutes,
)
from prescriptions.reminders.messages import Message
from prescriptions.reminders.plan import CHECKED_IN, is_late
from prescriptions.reminders.prepare import Prepared, prepared_for
from prescriptions.reminders.tick import ARCHIVED, CHANNEL_NONE, lease
from prescriptions.schedule import db_date, db_instant

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 600
# Emails and webhooks marked `sending`, then `sent`, together: a killed worker process leaves
# at most this many in doubt, and the batch commits once per group instead of per reminder.
SEND_GROUP = 10

ReminderStatus = Reminder.Status
Channel = ReminderPreference.Channel


def webhook_payload(reminder: "Claimed", message: Message) -> dict:
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


class Claimed(NamedTuple):
    """A claimed reminder with what deciding and sending it needs, read as plain values:
    building model instances for a batch (the reminder, its prescription, patient,
    preference and protocol) cost more CPU than everything else the batch did."""

    id: int
    prescription_id: int
    slot: str
    local_date: date
    fire_at: datetime
    channel: str
    attempts: int
    patient_id: int
    archived: bool
    first_name: str
    email: str
    phone: str
    heat_prep: bool
    protocol_heat_minutes: int
    preferred_channel: str | None  # None without saved preferences
    webhook_url: str | None
    webhook_secret: str | None
    checked_in: bool
    # The prescription's status at `fire_at` (schedule.status_at): the last change in effect
    # then, "" before its first change, the stored status when it has no history.
    status_then: str
    texts_sent: int | None  # text messages sent to the patient that day (texts only)
    lease_until: datetime  # the claim's lease: every mark of this attempt is fenced by it

    @property
    def heat_minutes(self) -> int:
        return heat_minutes(self.heat_prep, self.protocol_heat_minutes)


_R = Reminder._meta.db_table
_P = Prescription._meta.db_table

# Written once as SQL rather than built by the ORM for every batch: in a burst, building and
# compiling the queries and the model instances of a batch cost more than the database
# spent answering them (bench/RESULTS.md).
#
# The claim leases what no other attempt holds and is still queued, in one statement. On
# PostgreSQL rows another claim is taking at this moment are passed over (SKIP LOCKED), not
# waited for; the status is checked on the locked row (asked of the table, the planner may
# pick the partial index of queued reminders, which right after a tick holds the whole
# minute and its dead entries). SQLite serialises writers: the UPDATE alone is the claim.
_CLAIM_POSTGRESQL = f"""
    WITH free AS MATERIALIZED (
        SELECT id, status FROM {_R}
        WHERE id = ANY(%s) AND (lease_until IS NULL OR lease_until < %s)
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {_R} r SET lease_until = %s, attempts = r.attempts + 1
    FROM free WHERE r.id = free.id AND free.status = %s
    RETURNING r.id
"""
_CLAIM_SQLITE = f"""
    UPDATE {_R} SET lease_until = %s, attempts = attempts + 1
    WHERE id IN ({{ids}}) AND (lease_until IS NULL OR lease_until < %s) AND status = %s
    RETURNING id
"""
# What the claimed reminders are decided and sent on, with the checks of the instant read
# in the same statement: a check-in of the session, the prescription's status at the
# reminder's instant (the last change in effect then, "" when its history begins later,
# the stored status when there is none), and for a text the patient's texts sent that day.
# Each subquery is a probe of an index by prescription (or patient) and day.
_CLAIMED = f"""
    SELECT c.id, c.prescription_id, c.slot, c.local_date, c.fire_at, c.channel, c.attempts,
        p.patient_id, pa.archived_at IS NOT NULL, pa.first_name, pa.email, pa.phone,
        p.heat_prep, pr.heat_prep_minutes, rp.channel, rp.webhook_url, rp.webhook_secret,
        (
            SELECT 1 FROM {CheckIn._meta.db_table} ci
            WHERE ci.prescription_id = c.prescription_id AND ci.local_date = c.local_date
                AND ci.slot = c.slot
            LIMIT 1
        ) IS NOT NULL,
        COALESCE(
            (
                SELECT h.status FROM {StatusChange._meta.db_table} h
                WHERE h.prescription_id = c.prescription_id AND h.effective_at <= c.fire_at
                ORDER BY h.effective_at DESC, h.id DESC
                LIMIT 1
            ),
            (
                SELECT '' FROM {StatusChange._meta.db_table} h
                WHERE h.prescription_id = c.prescription_id
                LIMIT 1
            ),
            p.status
        ),
        CASE WHEN c.channel = %s THEN (
            SELECT COUNT(*) FROM {_R} t JOIN {_P} tp ON tp.id = t.prescription_id
            WHERE tp.patient_id = p.patient_id AND t.local_date = c.local_date
                AND t.channel = %s AND t.status = %s
        ) END
    FROM {_R} c
    JOIN {_P} p ON p.id = c.prescription_id
    JOIN {Protocol._meta.db_table} pr ON pr.id = p.protocol_id
    JOIN {Patient._meta.db_table} pa ON pa.id = p.patient_id
    LEFT JOIN {ReminderPreference._meta.db_table} rp ON rp.patient_id = p.patient_id
    WHERE c.id {{ids}}
    ORDER BY c.id
"""


def _ids_condition(ids: list[int]) -> tuple[str, list]:
    """`IN` the ids: one array parameter on PostgreSQL (a statement the same for every batch,
    planned faster than a hundred parameters), a parameter each on SQLite."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _claim(reminder_ids: list[int], now: datetime) -> list[Claimed]:
    """Takes the reminders still waiting to be sent and holds them for this attempt."""
    if not reminder_ids:
        return []
    instant = connection.ops.adapt_datetimefield_value
    lease_until = now + lease()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _CLAIM_POSTGRESQL,
                [list(reminder_ids), instant(now), instant(lease_until), ReminderStatus.QUEUED],
            )
        else:
            cursor.execute(
                _CLAIM_SQLITE.format(ids=", ".join(["%s"] * len(reminder_ids))),
                [instant(lease_until), *reminder_ids, instant(now), ReminderStatus.QUEUED],
            )
        claimed_ids = sorted(row[0] for row in cursor.fetchall())
        if not claimed_ids:
            return []
        condition, params = _ids_condition(claimed_ids)
        cursor.execute(
            _CLAIMED.format(ids=condition),
            [Channel.SMS, Channel.SMS, ReminderStatus.SENT, *params],
        )
        rows = cursor.fetchall()
    return [_claimed(row, lease_until) for row in rows]


def _claimed(row: tuple, lease_until: datetime) -> Claimed:
    # SQLite answers raw SQL with naive UTC instants, dates as the column declares them,
    # and 0/1 for a condition.
    (id_, prescription_id, slot, local_date, fire_at, channel, attempts, patient_id,
     archived, first_name, email, phone, heat_prep, protocol_heat_minutes, preferred,
     webhook_url, webhook_secret, checked_in, status_then, texts_sent) = row  # fmt: skip
    return Claimed(
        id_, prescription_id, slot, db_date(local_date), db_instant(fire_at), channel, attempts,
        patient_id, bool(archived), first_name, email, phone, bool(heat_prep),
        protocol_heat_minutes, preferred, webhook_url, webhook_secret, bool(checked_in),
        status_then, texts_sent, lease_until,
    )  # fmt: skip


def _begin_sending(
    group: list[Claimed], *, sent: Sequence[int] = (), durable: bool = False
) -> list[Claimed]:
    """Marks a group `sending` just before its channel calls, those this attempt still
    holds: a lease that ran out (a slow batch) may have let the sweep hand one to another
    worker. The sends get a lease of their own, so that only a worker that stopped while
    sending leaves reminders in doubt, however long the batch before them took.

    The same statement marks `sent` the group before (`sent`): a round trip per group
    instead of two, and still never more than one group `sending` at a time."""
    instant = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    sending, sending_params = _ids_condition([r.id for r in group])
    done, done_params = _ids_condition(list(sent))
    # One statement that answers which rows it took (the ORM's update only counts them):
    # it runs once per group, on the path every reminder takes. The claim's lease is the
    # fence: every other change to a reminder (sent, skipped, released by the sweep, sent
    # by another attempt) rewrites `lease_until`, so a row still holding it is queued and
    # ours. (A `status` condition here let the planner pick the partial index of queued
    # reminders, full of dead entries right after a tick: 4 ms instead of 0.5.) What was
    # sent is marked as `_finish` would, unfenced: it went out.
    with _durable_if(durable or _is_text(group)), connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {_R} SET
                status = CASE WHEN id {done} THEN %s ELSE %s END,
                reason = CASE WHEN id {done} THEN '' ELSE reason END,
                sent_at = CASE WHEN id {done} THEN %s ELSE sent_at END,
                lease_until = CASE WHEN id {done} THEN NULL ELSE %s END
            WHERE (id {sending} AND lease_until = %s) OR id {done}
            RETURNING id""",
            [
                *done_params,
                ReminderStatus.SENT,
                ReminderStatus.SENDING,
                *done_params,
                *done_params,
                instant(now),
                *done_params,
                instant(now + lease()),
                *sending_params,
                instant(group[0].lease_until),  # one claim, one lease for the whole batch
                *done_params,
            ],
        )
        taken = {row[0] for row in cursor.fetchall()}
    return [r for r in group if r.id in taken]


def _send_groups(reminders: list[Claimed]):
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


def _is_text(group: list[Claimed]) -> bool:
    return group[0].channel == Channel.SMS


@contextmanager
def _marks_without_waiting():
    """The batch's claim and marks commit without waiting for the disk (PostgreSQL's
    synchronous_commit off): a commit waiting for its flush cost more than the sending.

    A database that crashes may forget the last fraction of a second of them. A forgotten
    claim leaves the reminder queued, for the tick's sweep to queue again; a forgotten mark
    (sending, sent, skipped, failed) only sends an email or a webhook again under the same
    Message-ID / Idempotency-Key, like one in doubt; never fewer. A text message cannot be
    told apart from a repeat: its marks wait (`_durable_if`), and the log is written in
    order, so a text's `sending` on disk has its claim on disk before it.
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
    sent_at = timezone.now() if status == ReminderStatus.SENT else None
    condition, params = _ids_condition(ids)
    with _durable_if(durable), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_R} SET status = %s, reason = %s, sent_at = %s, lease_until = NULL"
            f" WHERE id {condition}",
            [status, reason[:255], connection.ops.adapt_datetimefield_value(sent_at), *params],
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
    with _marks_without_waiting():
        claimed = _claim(reminder_ids, now)
        if not claimed:
            return {}
        texts = {}
        skipped = defaultdict(list)
        to_send = []
        for reminder in claimed:
            reason = _skip_reason(reminder, now)
            if not reason and reminder.channel == Channel.SMS:
                day = (reminder.patient_id, reminder.local_date)
                texts.setdefault(day, reminder.texts_sent)
                if texts[day] >= settings.SMS_DAILY_LIMIT_PER_PATIENT:
                    reason = SMS_LIMIT_REACHED
                texts[day] += 1
            if reason:
                skipped[reason].append(reminder.id)
            else:
                to_send.append(reminder)
        for reason, ids in skipped.items():
            _finish(ids, ReminderStatus.SKIPPED, reason)
        return _send_all(to_send, prepared_for(to_send, now))


def _send_all(to_send: list[Claimed], prepared: dict[int, Prepared]) -> dict[int, int]:
    retry = {}
    connections = _Connections()
    # The group before, marked `sent` together with the next group's `sending`.
    sent, texts = [], False
    try:
        for group in _send_groups(to_send):
            for reminder in group:  # before `sending`: a mail server that is down fails early
                connections.open_for(reminder.channel)
            taken = _begin_sending(group, sent=sent, durable=texts)
            sent, texts = [], _is_text(group)
            for reminder in taken:
                outcome = _send_and_record(reminder, prepared[reminder.id], connections)
                if outcome == ReminderStatus.SENT:
                    sent.append(reminder.id)
                elif outcome == ReminderStatus.QUEUED:
                    retry[reminder.id] = reminder.attempts
    finally:
        try:
            # The last group, or the one before a failure: it went out.
            _finish(sent, ReminderStatus.SENT, durable=texts)
        finally:
            connections.close()
    return retry


SMS_LIMIT_REACHED = "the daily limit of text messages for this patient is reached"


def _skip_reason(reminder: Claimed, now: datetime) -> str:
    """Why a claimed reminder should no longer go out ("" when it should)."""
    if reminder.checked_in:
        return CHECKED_IN
    if reminder.archived:
        return ARCHIVED
    status = reminder.status_then or None  # "": before the prescription's first change
    if status != Prescription.Status.ACTIVE:
        return f"the prescription is {status}"
    if is_late(reminder.fire_at, now):
        return "too late to send (delivery was delayed)"
    if reminder.preferred_channel == Channel.NONE:
        # Stopped after the tick queued it (a one-click stop a minute ago): honour it.
        return CHANNEL_NONE
    return ""


def _send_and_record(reminder: Claimed, prepared: Prepared, connections: _Connections) -> str:
    """Sends one reminder; records a failure, and answers the status it ends in (`sent` is
    recorded by the caller for the whole group)."""
    try:
        _send(reminder, prepared, email=connections.email, sms=connections.sms)
    except channels.PermanentDeliveryError as error:
        _fail(reminder, str(error))
        return ReminderStatus.FAILED
    except channels.DeliveryError as error:
        logger.warning("reminder %s try %s: %s", reminder.id, reminder.attempts, error)
        if reminder.attempts >= MAX_ATTEMPTS:
            _fail(reminder, f"{error} (after {reminder.attempts} tries)")
            return ReminderStatus.FAILED
        # The channel said it did not go out: back in the queue for the retry.
        _finish(
            [reminder.id],
            ReminderStatus.QUEUED,
            f"try {reminder.attempts} failed: {error}",
            durable=reminder.channel == Channel.SMS,
        )
        return ReminderStatus.QUEUED
    return ReminderStatus.SENT


def _fail(reminder: Claimed, reason: str) -> None:
    """The reminder's last word: `failed`, and its event in the same transaction."""
    with transaction.atomic():
        _finish([reminder.id], ReminderStatus.FAILED, reason)
        events.record(
            events.Type.REMINDER_FAILED,
            clinic_id=Patient.objects.values_list("clinic_id", flat=True).get(
                id=reminder.patient_id
            ),
            patient=reminder.patient_id,
            prescription=reminder.prescription_id,
            reminder=reminder.id,
        )


def _send(reminder: Claimed, prepared: Prepared, *, email, sms) -> None:
    message = prepared.message
    if reminder.channel == Channel.EMAIL:
        channels.send_email(prepared.email, connection=email)
    elif reminder.channel == Channel.SMS:
        channels.send_sms(to=reminder.phone, body=message.sms, backend=sms)
    elif reminder.channel == Channel.WEBHOOK:
        channels.send_webhook(
            url=reminder.webhook_url or "",
            secret=reminder.webhook_secret or "",
            payload=webhook_payload(reminder, message),
            idempotency_key=f"reminder-{reminder.id}",
        )
    else:
        raise channels.PermanentDeliveryError(f"unknown channel {reminder.channel!r}")
