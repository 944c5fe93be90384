"""Writes on prescriptions and check-ins. Each service does the whole change or none."""

from datetime import date, datetime, time, timedelta
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from clinic.models import User
from patients.models import Patient
from prescriptions import adherence, advice, alerts
from prescriptions.models import (
    CheckIn,
    CheckInSlot,
    Prescription,
    PrescriptionSlot,
    Protocol,
    StatusChange,
)
from prescriptions.reminders.plan import slots_reschedule
from prescriptions.schedule import checkin_local_date, local_midnight, local_today
from prescriptions.tasks import notify_red_flag

PrescriptionStatus = Prescription.Status

# How far past "now" a check-in's time may lie: phones' clocks drift.
CHECKIN_CLOCK_SKEW = timedelta(minutes=5)


class SlotTime(TypedDict):
    """A reminder time as a prescription's writes take it: which session, at what local time."""

    kind: str
    time: time


def default_slots(protocol: Protocol) -> list[SlotTime]:
    return [
        {"kind": slot["kind"], "time": time.fromisoformat(slot["time"])}
        for slot in protocol.default_slots
    ]


def _overlapping(patient: Patient, protocol: Protocol, start: date, end: date | None):
    """Prescriptions of the protocol, not ended, whose dates meet start..end.

    Two at once would expect every session twice and remind the patient twice.
    """
    overlapping = Prescription.objects.filter(patient=patient, protocol=protocol).exclude(
        status=PrescriptionStatus.ENDED
    )
    overlapping = overlapping.filter(
        models.Q(end_date__isnull=True) | models.Q(end_date__gte=start)
    )
    if end is not None:
        overlapping = overlapping.filter(start_date__lte=end)
    return overlapping


def _slots_replace(prescription: Prescription, slots: list[SlotTime]) -> None:
    kinds = [slot["kind"] for slot in slots]
    prescription.slots.exclude(kind__in=kinds).delete()
    for slot in slots:
        PrescriptionSlot.objects.update_or_create(
            prescription=prescription, kind=slot["kind"], defaults={"time": slot["time"]}
        )


@transaction.atomic
def prescription_create(
    *,
    patient: Patient,
    clinician: User,
    protocol: Protocol,
    start_date: date,
    end_date: date | None = None,
    slots: list[SlotTime] | None = None,
    as_needed: bool = True,
    heat_prep: bool = False,
    notes: str = "",
) -> Prescription:
    # The patient's row lock serialises concurrent prescribing for the same patient.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if _overlapping(patient, protocol, start_date, end_date).exists():
        raise ValidationError(
            {
                "patient": "This patient already has an open prescription of this protocol "
                "for these dates; change or end it instead."
            }
        )
    prescription = Prescription.objects.create(
        patient=patient,
        protocol=protocol,
        clinician=clinician,
        status=PrescriptionStatus.ACTIVE,
        start_date=start_date,
        end_date=end_date,
        as_needed=as_needed,
        heat_prep=heat_prep,
        notes=notes,
    )
    _slots_replace(prescription, default_slots(protocol) if slots is None else slots)
    StatusChange.objects.create(
        prescription=prescription,
        status=PrescriptionStatus.ACTIVE,
        effective_at=local_midnight(start_date, patient.zone),
        recorded_by=clinician,
    )
    slots_reschedule(prescription_id=prescription.id)
    return prescription


def _locked(prescription: Prescription) -> Prescription:
    return (
        Prescription.objects.select_for_update()
        .select_related("patient", "protocol")
        .get(pk=prescription.pk)
    )


@transaction.atomic
def prescription_update(
    *,
    prescription: Prescription,
    start_date: date | None = None,
    end_date: date | None = None,
    clear_end_date: bool = False,
    slots: list[SlotTime] | None = None,
    as_needed: bool | None = None,
    heat_prep: bool | None = None,
    notes: str | None = None,
) -> Prescription:
    """Changes the plan; the status only moves through pause, resume and end."""
    prescription = _locked(prescription)
    if prescription.status == PrescriptionStatus.ENDED:
        raise ValidationError("This prescription has ended and can no longer change.")
    start = start_date or prescription.start_date
    end = None if clear_end_date else (end_date or prescription.end_date)
    if start_date is not None and start_date != prescription.start_date:
        # Moving the start rewrites the history adherence is computed from; only allowed
        # while nothing has happened on the old dates.
        if prescription.check_ins.exists() or prescription.status_changes.count() > 1:
            raise ValidationError(
                {
                    "start_date": "The start cannot move once check-ins or status changes "
                    "were recorded; end this prescription and prescribe a new one."
                }
            )
        prescription.status_changes.update(
            effective_at=local_midnight(start_date, prescription.zone)
        )
    if end is not None and end < start:
        raise ValidationError({"end_date": "The end date cannot be before the start date."})
    dates_move = (start, end) != (prescription.start_date, prescription.end_date)
    if dates_move:
        # As in prescription_create: one writer at a time decides what overlaps.
        Patient.objects.select_for_update().filter(pk=prescription.patient_id).first()
    others = _overlapping(prescription.patient, prescription.protocol, start, end).exclude(
        pk=prescription.pk
    )
    if dates_move and others.exists():
        raise ValidationError(
            {"end_date": "These dates overlap another open prescription of this protocol."}
        )
    prescription.start_date = start
    prescription.end_date = end
    if as_needed is not None:
        prescription.as_needed = as_needed
    if heat_prep is not None:
        prescription.heat_prep = heat_prep
    if notes is not None:
        prescription.notes = notes
    prescription.save()
    if slots is not None:
        _slots_replace(prescription, slots)
    slots_reschedule(prescription_id=prescription.id)
    return prescription


# Each status a prescription can be moved to: the statuses it may come from, and what a
# clinician is told otherwise.
TRANSITIONS = {
    PrescriptionStatus.PAUSED: (
        {PrescriptionStatus.ACTIVE},
        "This prescription is already paused.",
    ),
    PrescriptionStatus.ACTIVE: ({PrescriptionStatus.PAUSED}, "This prescription is not paused."),
    PrescriptionStatus.ENDED: (
        {PrescriptionStatus.ACTIVE, PrescriptionStatus.PAUSED},
        "This prescription has already ended.",
    ),
}


@transaction.atomic
def prescription_status_change(
    *,
    prescription: Prescription,
    to: str,
    effective: datetime | None = None,
    by: User | None = None,
    reason: str = "",
) -> Prescription:
    """Pauses, resumes or ends from `effective` (default now), kept in the history.

    While paused or after the end nothing is expected and no reminder goes out. `by` is
    None when the system acts (a red flag pauses).
    """
    prescription = _locked(prescription)
    if prescription.status == PrescriptionStatus.ENDED:
        raise ValidationError("This prescription has ended and can no longer change.")
    allowed_from, refusal = TRANSITIONS[to]
    if prescription.status not in allowed_from:
        raise ValidationError(refusal)
    now = timezone.now()
    starts = local_midnight(prescription.start_date, prescription.zone)
    if effective is None and to == PrescriptionStatus.ENDED and now < starts:
        # Called off before it began: it ends the instant it would have started, so no
        # day of it is ever active.
        effective = now = starts
    effective = effective or now
    last = prescription.status_changes.order_by("-effective_at", "-id").first()
    if effective > now:
        raise ValidationError({"effective": "This instant is in the future."})
    if effective < starts:
        raise ValidationError({"effective": "This instant is before the prescription starts."})
    if last is not None and effective < last.effective_at:
        raise ValidationError(
            {
                "effective": "This instant is before the last status change "
                f"({last.effective_at.isoformat()})."
            }
        )
    StatusChange.objects.create(
        prescription=prescription,
        status=to,
        effective_at=effective,
        recorded_by=by,
        reason=reason,
    )
    prescription.status = to
    prescription.save(update_fields=["status", "updated_at"])
    slots_reschedule(prescription_id=prescription.id)
    return prescription


@transaction.atomic
def checkin_record(
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
    """Stores the session the patient reports, then acts on it (advice, red flags)."""
    # Locked so that an `end` racing this check-in cannot slip in between check and insert.
    prescription = _locked(prescription)
    if prescription.current_status == PrescriptionStatus.ENDED:
        raise ValidationError({"prescription": "This prescription has ended."})
    tz = prescription.zone
    if performed_at > timezone.now() + CHECKIN_CLOCK_SKEW:
        raise ValidationError({"performed_at": "This time is in the future."})
    if performed_at < local_midnight(prescription.start_date, tz):
        raise ValidationError({"performed_at": "This time is before the prescription starts."})
    checkin = CheckIn.objects.create(
        prescription=prescription,
        patient=prescription.patient,
        slot=slot,
        performed_at=performed_at,
        local_date=checkin_local_date(performed_at, tz, slot),
        duration_minutes=duration_minutes,
        pain_before=pain_before,
        pain_after=pain_after,
        heat_used=heat_used,
        notes=notes,
        red_flags=red_flags or [],
    )
    advice_text = checkin_follow_up(checkin)
    if advice_text:
        checkin.advice = advice_text
        checkin.save(update_fields=["advice"])
    return checkin


def checkin_follow_up(checkin: CheckIn) -> str:
    """Acts on a check-in just recorded, inside its transaction; answers the advice for the
    patient ("" when nothing needs saying)."""
    if checkin.red_flags:
        return _red_flags_act(checkin)
    now = timezone.now()
    if checkin.pain_rose:
        alerts.session_pain_alert_raise(checkin, now)
        return advice.EASE_OFF
    if checkin.slot == CheckInSlot.NIGHT and checkin.prescription.as_needed:
        return advice.NIGHT
    return _streak_advice(checkin.patient, now)


def _red_flags_act(checkin: CheckIn) -> str:
    """Raises the red-flag alert, pauses the prescription from the session and, after
    commit, emails the clinician when the check-in adds a sign the open alert did not
    hold yet: the same signs again tell them nothing new while the alert waits for them."""
    alert, new_flags = alerts.red_flag_alert_raise(checkin)
    prescription = checkin.prescription
    if prescription.status == PrescriptionStatus.ACTIVE:
        prescription_status_change(
            prescription=prescription,
            to=PrescriptionStatus.PAUSED,
            effective=_red_flag_pause_instant(prescription, checkin.performed_at),
            by=None,
            reason=f"Red flag reported in check-in {checkin.id}",
        )
    if new_flags:
        notify_red_flag.delay_on_commit(alert.id, checkin.id)
    return advice.red_flag(checkin.red_flags)


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


def _streak_advice(patient: Patient, now: datetime) -> str:
    start, end = adherence.default_range(local_today(patient.zone, now))
    report = adherence.adherence_report(patient=patient, start=start, end=end, now=now)
    if report["current_streak_days"] >= advice.STREAK_MIN_DAYS:
        return advice.streak(report["current_streak_days"])
    return ""


# --- Check-in from a reminder's link -----------------------------------------------------


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
    _locked(reminder.prescription)
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
