"""Writes on prescriptions: prescribe, change the plan, pause, resume and end. Each service
does the whole change or none. Check-ins are written in `checkins`."""

from datetime import date, datetime, time
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from clinic import events
from clinic.models import User
from patients.models import Patient
from prescriptions import adherence, extensions
from prescriptions.models import (
    EPOCH,
    PlanChange,
    Prescription,
    PrescriptionSlot,
    Protocol,
    StatusChange,
)
from prescriptions.reminders import slots_reschedule
from prescriptions.schedule import local_midnight

PrescriptionStatus = Prescription.Status


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
    inputs: dict | None = None,
) -> Prescription:
    """A new prescription, its slots, its first status and its ledger; `inputs` are the
    values of what other apps add to prescribing (prescriptions.extensions), by name."""
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
    adherence.schedule_start(prescription=prescription)
    slots_reschedule(prescription_id=prescription.id)
    extensions.prescription_created(prescription, inputs or {})
    _event(events.Type.PRESCRIPTION_CREATED, prescription)
    return prescription


def _event(type: str, prescription: Prescription) -> None:
    events.record(
        type,
        clinic_id=prescription.patient.clinic_id,
        patient=prescription.patient_id,
        prescription=prescription.id,
    )


def locked_prescriptions():
    """Prescriptions read with their patient, each row locked until the transaction ends:
    writers on one prescription take turns."""
    # Its row alone: FOR UPDATE over the join also locked the patient's row (a deadlock
    # with any insert that key-shares patient, then prescription) and the protocol's, the
    # one row every prescription shares, so that all check-ins took turns.
    return Prescription.objects.select_for_update(of=("self",)).select_related("patient")


def patient_prescription_locked(*, pk: int, user: User) -> Prescription | None:
    """The prescription `pk` when it is the patient's of `user`, read and locked as
    locked_prescriptions() does (its patient with it); None when it is not theirs.
    `pk` as Prescription's primary key takes it (ValueError or TypeError otherwise)."""
    pk = Prescription._meta.pk.get_prep_value(pk)
    if connection.vendor != "postgresql":
        return locked_prescriptions().filter(patient__user=user, pk=pk).first()
    with connection.cursor() as cursor:
        cursor.execute(PATIENT_PRESCRIPTION_LOCKED, [pk, user.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    # As the ORM's select_related builds them (no field of either needs a converter here).
    prescription = Prescription.from_db(connection.alias, None, row[:_PRESCRIPTION_COLUMNS])
    patient = Patient.from_db(connection.alias, None, row[_PRESCRIPTION_COLUMNS:])
    Prescription.patient.field.set_cached_value(prescription, patient)
    return prescription


def _columns(model, alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


_PRESCRIPTION_COLUMNS = len(Prescription._meta.concrete_fields)
# The check-in POST's read of locked_prescriptions() written once: the ORM compiled the
# join at every POST, for more CPU than the database spent on it (bench/RESULTS.md). The
# same lock, the prescription's row alone (locked_prescriptions says why).
PATIENT_PRESCRIPTION_LOCKED = f"""
    SELECT {_columns(Prescription, "rx")}, {_columns(Patient, "patient")}
    FROM {Prescription._meta.db_table} rx
    JOIN {Patient._meta.db_table} patient ON patient.id = rx.patient_id
    WHERE rx.id = %s AND patient.user_id = %s
    FOR UPDATE OF rx
"""


def prescription_lock(prescription: Prescription) -> Prescription:
    """The prescription's row, read again with its protocol and locked (locked_prescriptions)."""
    return locked_prescriptions().select_related("protocol").get(pk=prescription.pk)


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
    by: User | None = None,
) -> Prescription:
    """Changes the plan; the status only moves through pause, resume and end. What changed
    (before → after) is kept as a PlanChange by `by`."""
    prescription = prescription_lock(prescription)
    before = plan_fields(prescription)
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
        previous = adherence.schedule_snapshot(prescription)
        _slots_replace(prescription, slots)
        if adherence.schedule_snapshot(prescription) != previous:
            adherence.schedule_change(prescription=prescription, previous=previous)
    if dates_move:
        adherence.ledger_rewrite(prescription_id=prescription.id, since=EPOCH)
    slots_reschedule(prescription_id=prescription.id)
    after = plan_fields(prescription)
    changed = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if changed:
        PlanChange.objects.create(prescription=prescription, actor=by, fields=changed)
        _event(events.Type.PRESCRIPTION_CHANGED, prescription)
    return prescription


def plan_fields(prescription: Prescription) -> dict:
    """The plan as its history records it, in the API's names and JSON values."""
    return {
        "slots": [
            {"kind": kind, "time": at.strftime("%H:%M")}
            for kind, at in sorted(prescription.slots.values_list("kind", "time"))
        ],
        "start_date": prescription.start_date.isoformat(),
        "end_date": prescription.end_date.isoformat() if prescription.end_date else None,
        "heat_prep": prescription.heat_prep,
        "as_needed": prescription.as_needed,
        "notes": prescription.notes,
    }


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
    prescription = prescription_lock(prescription)
    # Past its end date it reads ended, though no one ended it: nothing left to change.
    if prescription.current_status == PrescriptionStatus.ENDED:
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
    adherence.ledger_rewrite(prescription_id=prescription.id, since=effective)
    slots_reschedule(prescription_id=prescription.id)
    _event(STATUS_EVENTS[to], prescription)
    return prescription


STATUS_EVENTS = {
    PrescriptionStatus.PAUSED: events.Type.PRESCRIPTION_PAUSED,
    PrescriptionStatus.ACTIVE: events.Type.PRESCRIPTION_RESUMED,
    PrescriptionStatus.ENDED: events.Type.PRESCRIPTION_ENDED,
}
