"""Sending: a batch of queued reminders is claimed with a lease (`lease_until`), so a task
delivered twice sends once; each is checked again (a check-in, a pause may have come since
the tick), marked `sending` just before the channel calls and `sent` right after, a group
of SEND_GROUP at a time (a commit per reminder cost more than the sending), one statement
marking a group `sent` and the next `sending`. A failure is retried with backoff and
jitter; the last failure leaves the reminder `failed`.

At a burst's instant this is the path every reminder takes, so the claim is two SQL texts
written once (claimed.py: lease, then one read of what the checks and the send need, the
checks' facts as subqueries) and the marks are SQL too; the message itself was prepared in
the minute before (prepare.py). What differs per channel is its transport's
(transports/): a text message goes alone and is never sent twice, and has a daily limit.

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
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic import events
from patients.models import Patient, ReminderPreference
from prescriptions.models import Prescription, Reminder
from prescriptions.reminders.claimed import (
    CLAIM_POSTGRESQL,
    CLAIM_SQLITE,
    REMINDERS,
    Claimed,
    claimed_read,
    claimed_row,
    ids_condition,
)
from prescriptions.reminders.plan import CHECKED_IN, is_late
from prescriptions.reminders.prepare import Prepared, prepared_for
from prescriptions.reminders.tick import ARCHIVED, CHANNEL_NONE, lease
from prescriptions.reminders.transports import (
    DeliveryError,
    PermanentDeliveryError,
    transport_for,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 600
# Emails and webhooks marked `sending`, then `sent`, together: a killed worker process leaves
# at most this many in doubt, and the batch commits once per group instead of per reminder.
SEND_GROUP = 10

ReminderStatus = Reminder.Status
Channel = ReminderPreference.Channel


def retry_delay(attempts: int) -> float:
    """Exponential backoff with full jitter, so retries after an outage spread out."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def _claim(reminder_ids: list[int], now: datetime) -> list[Claimed]:
    """Takes the reminders still waiting to be sent and holds them for this attempt."""
    if not reminder_ids:
        return []
    instant = connection.ops.adapt_datetimefield_value
    lease_until = now + lease()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                CLAIM_POSTGRESQL,
                [list(reminder_ids), instant(now), instant(lease_until), ReminderStatus.QUEUED],
            )
        else:
            cursor.execute(
                CLAIM_SQLITE.format(ids=", ".join(["%s"] * len(reminder_ids))),
                [instant(lease_until), *reminder_ids, instant(now), ReminderStatus.QUEUED],
            )
        claimed_ids = sorted(row[0] for row in cursor.fetchall())
        if not claimed_ids:
            return []
        cursor.execute(*claimed_read(claimed_ids))
        rows = cursor.fetchall()
    return [claimed_row(row, lease_until) for row in rows]


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
    sending, sending_params = ids_condition([r.id for r in group])
    done, done_params = ids_condition(list(sent))
    # One statement that answers which rows it took (the ORM's update only counts them):
    # it runs once per group, on the path every reminder takes. The claim's lease is the
    # fence: every other change to a reminder (sent, skipped, released by the sweep, sent
    # by another attempt) rewrites `lease_until`, so a row still holding it is queued and
    # ours. (A `status` condition here let the planner pick the partial index of queued
    # reminders, full of dead entries right after a tick: 4 ms instead of 0.5.) What was
    # sent is marked as `_finish` would, unfenced: it went out.
    with _durable_if(durable or _never_twice(group)), connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {REMINDERS} SET
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
        if not transport_for(reminder.channel).resend_in_doubt:
            yield [reminder]
            continue
        group.append(reminder)
        if len(group) == SEND_GROUP:
            yield group
            group = []
    if group:
        yield group


def _never_twice(group: list[Claimed]) -> bool:
    """A group of one that must not go twice (a text message): its marks wait for the disk."""
    return not transport_for(group[0].channel).resend_in_doubt


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
    condition, params = ids_condition(ids)
    with _durable_if(durable), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {REMINDERS} SET status = %s, reason = %s, sent_at = %s, lease_until = NULL"
            f" WHERE id {condition}",
            [status, reason[:255], connection.ops.adapt_datetimefield_value(sent_at), *params],
        )


class _Connections(dict):
    """Each transport's connection for one batch (an email connection, the SMS backend),
    opened when first needed."""

    def open_for(self, channel: str) -> None:
        if channel not in self:
            self[channel] = transport_for(channel).open()

    def close(self) -> None:
        for channel, opened in self.items():
            if opened is not None:
                transport_for(channel).close(opened)


def reminders_deliver(*, reminder_ids: list[int]) -> dict[int, int]:
    """Sends the given reminders that are still queued; answers those to try again, as
    {id: attempts so far}."""
    now = timezone.now()
    with _marks_without_waiting():
        claimed = _claim(reminder_ids, now)
        if not claimed:
            return {}
        sent_today = {}
        skipped = defaultdict(list)
        to_send = []
        for reminder in claimed:
            reason = _skip_reason(reminder, now)
            transport = transport_for(reminder.channel)
            limit = transport.daily_limit()
            if not reason and limit is not None:
                day = (reminder.channel, reminder.patient_id, reminder.local_date)
                sent_today.setdefault(day, reminder.sent_today)
                if sent_today[day] >= limit:
                    reason = transport.limit_reached
                sent_today[day] += 1
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
    sent, durable = [], False
    try:
        for group in _send_groups(to_send):
            for reminder in group:  # before `sending`: a mail server that is down fails early
                connections.open_for(reminder.channel)
            taken = _begin_sending(group, sent=sent, durable=durable)
            sent, durable = [], _never_twice(group)
            for reminder in taken:
                outcome = _send_and_record(reminder, prepared[reminder.id], connections)
                if outcome == ReminderStatus.SENT:
                    sent.append(reminder.id)
                elif outcome == ReminderStatus.QUEUED:
                    retry[reminder.id] = reminder.attempts
    finally:
        try:
            # The last group, or the one before a failure: it went out.
            _finish(sent, ReminderStatus.SENT, durable=durable)
        finally:
            connections.close()
    return retry


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
    transport = transport_for(reminder.channel)
    try:
        transport.send(reminder, prepared.message, prepared.email, connections[reminder.channel])
    except PermanentDeliveryError as error:
        _fail(reminder, str(error))
        return ReminderStatus.FAILED
    except DeliveryError as error:
        logger.warning("reminder %s try %s: %s", reminder.id, reminder.attempts, error)
        if reminder.attempts >= MAX_ATTEMPTS:
            _fail(reminder, f"{error} (after {reminder.attempts} tries)")
            return ReminderStatus.FAILED
        # The channel said it did not go out: back in the queue for the retry.
        _finish(
            [reminder.id],
            ReminderStatus.QUEUED,
            f"try {reminder.attempts} failed: {error}",
            durable=not transport.resend_in_doubt,
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
