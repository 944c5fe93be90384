"""What a delivery claims and reads, written once as SQL: the claim of a batch, and the
claimed reminders with the facts their checks and their send need, as `Claimed` values."""

from datetime import date, datetime
from typing import NamedTuple

from django.db import connection

from patients.models import Patient, ReminderPreference
from prescriptions.models import (
    CheckIn,
    Prescription,
    Protocol,
    Reminder,
    StatusChange,
    heat_minutes,
)
from prescriptions.reminders.transports import TRANSPORTS
from prescriptions.schedule import db_date, db_instant


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
    # Reminders of its channel sent to the patient that day (channels with a daily limit).
    sent_today: int | None
    lease_until: datetime  # the claim's lease: every mark of this attempt is fenced by it

    @property
    def heat_minutes(self) -> int:
        return heat_minutes(self.heat_prep, self.protocol_heat_minutes)


REMINDERS = Reminder._meta.db_table
PRESCRIPTIONS = Prescription._meta.db_table

# Written once as SQL rather than built by the ORM for every batch: in a burst, building and
# compiling the queries and the model instances of a batch cost more than the database
# spent answering them (bench/RESULTS.md).
#
# The claim leases what no other attempt holds and is still queued, in one statement. On
# PostgreSQL rows another claim is taking at this moment are passed over (SKIP LOCKED), not
# waited for; the status is checked on the locked row (asked of the table, the planner may
# pick the partial index of queued reminders, which right after a tick holds the whole
# minute and its dead entries). SQLite serialises writers: the UPDATE alone is the claim.
CLAIM_POSTGRESQL = f"""
    WITH free AS MATERIALIZED (
        SELECT id, status FROM {REMINDERS}
        WHERE id = ANY(%s) AND (lease_until IS NULL OR lease_until < %s)
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {REMINDERS} r SET lease_until = %s, attempts = r.attempts + 1
    FROM free WHERE r.id = free.id AND free.status = %s
    RETURNING r.id
"""
CLAIM_SQLITE = f"""
    UPDATE {REMINDERS} SET lease_until = %s, attempts = attempts + 1
    WHERE id IN ({{ids}}) AND (lease_until IS NULL OR lease_until < %s) AND status = %s
    RETURNING id
"""
# What the claimed reminders are decided and sent on, with the checks of the instant read
# in the same statement: a check-in of the session, the prescription's status at the
# reminder's instant (the last change in effect then, "" when its history begins later,
# the stored status when there is none), and for a channel with a daily limit (text
# messages) the patient's reminders of that channel sent that day.
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
        CASE WHEN c.channel IN ({{limited}}) THEN (
            SELECT COUNT(*) FROM {REMINDERS} t JOIN {PRESCRIPTIONS} tp ON tp.id = t.prescription_id
            WHERE tp.patient_id = p.patient_id AND t.local_date = c.local_date
                AND t.channel = c.channel AND t.status = %s
        ) END
    FROM {REMINDERS} c
    JOIN {PRESCRIPTIONS} p ON p.id = c.prescription_id
    JOIN {Protocol._meta.db_table} pr ON pr.id = p.protocol_id
    JOIN {Patient._meta.db_table} pa ON pa.id = p.patient_id
    LEFT JOIN {ReminderPreference._meta.db_table} rp ON rp.patient_id = p.patient_id
    WHERE c.id {{ids}}
    ORDER BY c.id
"""


def ids_condition(ids: list[int]) -> tuple[str, list]:
    """`IN` the ids: one array parameter on PostgreSQL (a statement the same for every batch,
    planned faster than a hundred parameters), a parameter each on SQLite."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def claimed_row(row: tuple, lease_until: datetime) -> Claimed:
    # SQLite answers raw SQL with naive UTC instants, dates as the column declares them,
    # and 0/1 for a condition.
    (id_, prescription_id, slot, local_date, fire_at, channel, attempts, patient_id,
     archived, first_name, email, phone, heat_prep, protocol_heat_minutes, preferred,
     webhook_url, webhook_secret, checked_in, status_then, sent_today) = row  # fmt: skip
    return Claimed(
        id_, prescription_id, slot, db_date(local_date), db_instant(fire_at), channel, attempts,
        patient_id, bool(archived), first_name, email, phone, bool(heat_prep),
        protocol_heat_minutes, preferred, webhook_url, webhook_secret, bool(checked_in),
        status_then, sent_today, lease_until,
    )  # fmt: skip


def claimed_read(ids: list[int]) -> tuple[str, list]:
    """The statement that reads the claimed reminders `ids`, and its parameters."""
    condition, params = ids_condition(ids)
    # "" is no channel: the statement holds when none has a limit.
    limited = [c for c, t in TRANSPORTS.items() if t.daily_limit() is not None] or [""]
    statement = _CLAIMED.format(ids=condition, limited=", ".join(["%s"] * len(limited)))
    return statement, [*limited, Reminder.Status.SENT, *params]
