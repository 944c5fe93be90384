"""Writes on check-ins: the session a patient reports, what the product does about it
(advice, alerts, a pause on a red flag, and through its events the clinician's email),
the one-tap check-in from a reminder's link, and the patient's own correction of a
check-in made by mistake."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from clinic import events
from prescriptions import adherence, alerts
from prescriptions.models import CheckIn, CheckInCorrection, Prescription
from prescriptions.schedule import checkin_local_date, local_midnight
from prescriptions.services import (
    locked_prescriptions,
    prescription_lock,
    prescription_status_change,
)

PrescriptionStatus = Prescription.Status

# How far past "now" a check-in's time may lie: phones' clocks drift.
CHECKIN_CLOCK_SKEW = timedelta(minutes=5)


@transaction.atomic
def checkin_record(*, prescription: Prescription, **session) -> CheckIn:
    """Stores the session the patient reports, then acts on it (advice, red flags)."""
    # Locked so that an `end` racing the check-in cannot slip in between check and insert;
    # without its protocol: nothing here reads its texts (parsing them was 5 % of a
    # check-in's CPU).
    locked = locked_prescriptions().get(pk=prescription.pk)
    return checkin_record_locked(prescription=locked, **session)


def checkin_record_locked(
    *,
    prescription: Prescription,
    slot: str,
    performed_at: datetime,
    pain_before: int,
    pain_after: int | None = None,
    duration_minutes: int | None = None,
    heat_used: bool = False,
    notes: str = "",
    red_flags: list[str] | None = None,
) -> CheckIn:
    """checkin_record for a caller whose transaction read `prescription` through
    services.locked_prescriptions() (the API's serializer does, checking that it is the patient's
    in the same query); it raises into that transaction, which must then roll back."""
    if prescription.current_status == PrescriptionStatus.ENDED:
        raise ValidationError({"prescription": "This prescription has ended."})
    tz = prescription.zone
    if performed_at > timezone.now() + CHECKIN_CLOCK_SKEW:
        raise ValidationError({"performed_at": "This time is in the future."})
    if performed_at < local_midnight(prescription.start_date, tz):
        raise ValidationError({"performed_at": "This time is before the prescription starts."})
    checkin = CheckIn(
        prescription=prescription,
        patient=prescription.patient,
        slot=slot,
        performed_at=performed_at,
        timezone=tz.key,
        local_date=checkin_local_date(performed_at, tz, slot),
        duration_minutes=duration_minutes,
        pain_before=pain_before,
        pain_after=pain_after,
        heat_used=heat_used,
        notes=notes,
        red_flags=red_flags or [],
    )
    now = timezone.now()
    # Counted before the row is written: the streak in the advice reads this day from the
    # ledger, and the advice is then inserted with the row rather than updated into it.
    streak = adherence.checkin_count_and_streak(checkin, now)
    checkin.advice = checkin_advice(checkin, now, streak)
    checkin_insert(checkin)
    # Both databases' inserts come through here (the API's PostgreSQL path included), in the
    # check-in's transaction.
    _event(events.Type.CHECK_IN_CREATED, checkin.id, prescription)
    checkin_act(checkin, now)
    return checkin


def _event(type: str, check_in_id: int, prescription: Prescription) -> None:
    events.record(
        type,
        clinic_id=prescription.patient.clinic_id,
        patient=prescription.patient_id,
        prescription=prescription.id,
        check_in=check_in_id,
    )


# The check-in's columns, all but its id, and its INSERT written once for PostgreSQL: the
# ORM's save() compiled it at every check-in, for more CPU than the database spent on it
# (bench/RESULTS.md).
_INSERTED = [field for field in CheckIn._meta.local_concrete_fields if not field.primary_key]
CHECKIN_INSERT = (
    f"INSERT INTO {CheckIn._meta.db_table} "
    f"({', '.join(field.column for field in _INSERTED)}) "
    f"VALUES ({', '.join(['%s'] * len(_INSERTED))}) RETURNING id"
)


def checkin_insert(checkin: CheckIn) -> None:
    """checkin.save(force_insert=True), the same row (created_at set on it as save sets it)."""
    if connection.vendor != "postgresql":
        checkin.save(force_insert=True)
        return
    values = [
        field.get_db_prep_save(field.pre_save(checkin, True), connection) for field in _INSERTED
    ]
    with connection.cursor() as cursor:
        cursor.execute(CHECKIN_INSERT, values)
        checkin.id = cursor.fetchone()[0]
    checkin._state.adding = False
    checkin._state.db = connection.alias


def checkin_advice(checkin: CheckIn, now: datetime, streak: int | None = None) -> str:
    """What the patient reads after this check-in ("" when nothing needs saying); `streak`
    is the patient's current streak when it was read with the count."""
    if streak is None:
        streak = adherence.current_streak_days(patient=checkin.patient, now=now)
    return alerts.checkin_advice_words(checkin, streak)


def checkin_act(checkin: CheckIn, now: datetime) -> None:
    """Acts on a check-in just stored, inside its transaction: its red flags, or its pain
    that rose."""
    if checkin.red_flags:
        _red_flags_act(checkin)
    elif checkin.pain_rose:
        alerts.session_pain_alert_raise(checkin, now)


def _red_flags_act(checkin: CheckIn) -> None:
    """Raises the red-flag alert (or adds the signs to the open one) and pauses the
    prescription from the session. The clinician's email follows from the alert's event,
    after commit (readers.red_flag_emails)."""
    alerts.red_flag_alert_raise(checkin)
    prescription = checkin.prescription
    if prescription.status == PrescriptionStatus.ACTIVE:
        prescription_status_change(
            prescription=prescription,
            to=PrescriptionStatus.PAUSED,
            effective=_red_flag_pause_instant(prescription, checkin.performed_at),
            by=None,
            reason=f"Red flag reported in check-in {checkin.id}",
        )


def _red_flag_pause_instant(prescription: Prescription, performed_at: datetime) -> datetime:
    """When the session happened, unless that is not a valid pause instant (then now)."""
    now = timezone.now()
    last = (
        prescription.status_changes.order_by("-effective_at")
        .values_list("effective_at", flat=True)
        .first()
    )
    if performed_at > now or (last is not None and performed_at < last):
        return now
    return performed_at


# A check-in from a reminder's link.


class SessionAlreadyDone(Exception):
    """The session already has its check-in; the link is spent."""

    def __init__(self, checkin: CheckIn):
        super().__init__("already checked in")
        self.checkin = checkin


class SessionOver(Exception):
    """The session's local day is over, or its prescription has ended."""


def session_checkin(reminder) -> CheckIn | None:
    return (
        CheckIn.objects.filter(
            prescription_id=reminder.prescription_id,
            slot=reminder.slot,
            local_date=reminder.local_date,
        )
        .order_by("id")
        .first()
    )


def session_open(reminder, *, now: datetime | None = None) -> bool:
    """Whether a check-in made now would count for the reminder's session: the link lasts
    as long as the session's local day (a bedtime one until the late-bedtime cutoff)."""
    now = now or timezone.now()
    tz = reminder.prescription.zone
    return checkin_local_date(now, tz, reminder.slot) == reminder.local_date


@transaction.atomic
def checkin_record_for_session(
    *,
    reminder,
    pain_before: int,
    pain_after: int | None = None,
    heat_used: bool = False,
    red_flags: list[str] | None = None,
) -> CheckIn:
    """Records the session a reminder asked for, once: a second submission (a double tap,
    a reload) finds the first check-in and stores nothing."""
    # The prescription's row lock orders racing submissions; the second sees the first.
    prescription_lock(reminder.prescription)
    done = session_checkin(reminder)
    if done is not None:
        raise SessionAlreadyDone(done)
    if not session_open(reminder):
        raise SessionOver
    try:
        return checkin_record(
            prescription=reminder.prescription,
            slot=reminder.slot,
            performed_at=timezone.now(),
            pain_before=pain_before,
            pain_after=pain_after,
            heat_used=heat_used,
            red_flags=red_flags,
        )
    except ValidationError as error:
        raise SessionOver from error


# A check-in put right by the patient who made it.

# How long after making a check-in its patient may correct or withdraw it: long enough to
# notice a wrong tap the next morning, short enough that what the clinician has read and
# acted on stays as it was.
CORRECTION_WINDOW = timedelta(hours=24)
CORRECTABLE = ("slot", "pain_before", "pain_after", "duration_minutes", "notes")


def correctable(checkin: CheckIn, now: datetime | None = None) -> bool:
    return (now or timezone.now()) - checkin.created_at <= CORRECTION_WINDOW


def _snapshot(checkin: CheckIn) -> dict:
    """The check-in as the correction's record keeps it (all of it: a withdrawn one lives
    on only there)."""
    return {
        "slot": checkin.slot,
        "performed_at": checkin.performed_at.isoformat(),
        "local_date": checkin.local_date.isoformat(),
        "pain_before": checkin.pain_before,
        "pain_after": checkin.pain_after,
        "duration_minutes": checkin.duration_minutes,
        "heat_used": checkin.heat_used,
        "notes": checkin.notes,
        "red_flags": list(checkin.red_flags),
    }


def _correction_start(checkin: CheckIn, now: datetime) -> tuple[Prescription, CheckIn]:
    """The prescription locked as checkin_record locks it (a correction and a check-in of
    the same prescription take turns, so each counts the other's result), and the check-in
    read again under that lock: a second tab may have withdrawn it a moment ago."""
    prescription = locked_prescriptions().get(pk=checkin.prescription_id)
    current = CheckIn.objects.filter(pk=checkin.pk).first()
    if current is None:
        raise ValidationError("This check-in has been withdrawn already.")
    if not correctable(current, now):
        raise ValidationError(
            "A check-in can be corrected only within 24 hours of making it. "
            "If this one is wrong, tell your clinic."
        )
    current.prescription = prescription
    return prescription, current


def _ledger_follow(prescription: Prescription, now: datetime) -> None:
    """The prescription's days counted again from its check-ins as they now stand, by the
    ledger's own rebuild: the same code that must equal what check-ins keep up one by one,
    so there is no second way of taking a check-in out of a day. Before the correction's
    event, whose reader outdates the patient's stored clinic row: the prescription's days
    are taken before that row, as every writer takes them."""
    adherence.prescription_ledger_rebuild(prescription_id=prescription.id, now=now)


@transaction.atomic
def checkin_correct(*, checkin: CheckIn, by, changes: dict, now: datetime | None = None) -> CheckIn:
    """Puts right what the patient got wrong in their check-in (CORRECTABLE: the session,
    the pain before and after, the minutes, the notes) within CORRECTION_WINDOW of making
    it; the record of the correction keeps what it was. Its red flags are never changed:
    they stay for the clinician."""
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValidationError({name: "This cannot be corrected." for name in sorted(unknown)})
    now = now or timezone.now()
    prescription, checkin = _correction_start(checkin, now)
    before = _snapshot(checkin)
    pain_rose_before = checkin.pain_rose
    for name, value in changes.items():
        setattr(checkin, name, value)
    # The session decides the date (a bedtime one after midnight counts for the evening
    # before), read in the zone the check-in was done in, not the patient's present one.
    tz = (
        adherence.sources_for([prescription.id])[prescription.id]
        .schedule_at(checkin.performed_at)
        .tz
    )
    checkin.local_date = checkin_local_date(checkin.performed_at, tz, checkin.slot)
    after = _snapshot(checkin)
    if after == before:
        return checkin
    checkin.save(update_fields=[*CORRECTABLE, "local_date"])
    CheckInCorrection.objects.create(
        check_in_id=checkin.id,
        prescription=prescription,
        patient_id=checkin.patient_id,
        kind=CheckInCorrection.Kind.CORRECTED,
        at=now,
        by=by,
        before=before,
        after=after,
    )
    _ledger_follow(prescription, now)
    _event(events.Type.CHECK_IN_CORRECTED, checkin.id, prescription)
    if not checkin.red_flags:
        checkin.advice = checkin_advice(checkin, now)
        checkin.save(update_fields=["advice"])
        if checkin.pain_rose and not pain_rose_before:
            alerts.session_pain_alert_raise(checkin, now)
    return checkin


@transaction.atomic
def checkin_withdraw(*, checkin: CheckIn, by, now: datetime | None = None) -> None:
    """Takes back a check-in the patient made by mistake, within CORRECTION_WINDOW: every
    report then reads it as never made, and the record of the correction keeps it whole.
    A check-in that reported a warning sign cannot be withdrawn: the sign stays for the
    clinician, whose alert and pause it raised."""
    now = now or timezone.now()
    prescription, checkin = _correction_start(checkin, now)
    if checkin.red_flags:
        raise ValidationError(
            "This check-in reported a warning sign, so it stays for your clinician to see. "
            "You can still correct its other details, or tell your clinic."
        )
    CheckInCorrection.objects.create(
        check_in_id=checkin.id,
        prescription=prescription,
        patient_id=checkin.patient_id,
        kind=CheckInCorrection.Kind.WITHDRAWN,
        at=now,
        by=by,
        before=_snapshot(checkin),
        after=None,
    )
    check_in_id = checkin.id
    checkin.delete()
    _ledger_follow(prescription, now)
    _event(events.Type.CHECK_IN_WITHDRAWN, check_in_id, prescription)
