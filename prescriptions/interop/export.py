"""Everything stored about one patient, as one JSON-ready document (their own copy)."""

from datetime import datetime

from django.utils import timezone

from patients.models import Patient, ReminderPreference
from prescriptions import extensions
from prescriptions.models import (
    Alert,
    CheckIn,
    CheckInCorrection,
    Prescription,
    PrescriptionSlot,
    Reminder,
    StatusChange,
    status_read,
)
from prescriptions.schedule import local_today

PRESCRIPTION_FIELDS = (
    "id",
    "protocol__slug",
    "clinician__first_name",
    "clinician__last_name",
    "status",
    "start_date",
    "end_date",
    "as_needed",
    "heat_prep",
    "notes",
    "created_at",
    "updated_at",
)


def columns(model, *, leave_out: set[str]) -> tuple[str, ...]:
    """The model's stored columns (a foreign key as its `_id`), but those left out: a column
    added later is exported unless someone decides otherwise here."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname not in leave_out)


# The clinic and the user account are written out by name below; the calendar-feed version
# is part of a secret URL; the rest is the clinic's bookkeeping (who enrolled or archived).
PATIENT_FIELDS = columns(
    Patient,
    leave_out={
        "clinic_id",
        "user_id",
        "calendar_feed_version",
        "enrolled_by_id",
        "updated_at",
        "archived_by_id",
    },
)
# The patient is the document's subject; the webhook secret is a credential, not a fact.
PREFERENCE_FIELDS = columns(ReminderPreference, leave_out={"id", "patient_id", "webhook_secret"})
CHECKIN_FIELDS = columns(CheckIn, leave_out={"patient_id"})
# Delivery bookkeeping (tries, the worker's claim) says nothing about the patient.
REMINDER_FIELDS = columns(Reminder, leave_out={"attempts", "lease_until", "created_at"})
# The clinician's own records of handling the alert (who acknowledged it, their note).
ALERT_FIELDS = columns(Alert, leave_out={"patient_id", "acknowledged_by_id", "note"})


def patient_export(patient: Patient, *, now: datetime | None = None) -> dict:
    """The patient's record, reminder preferences, prescriptions with their slots and status
    history, check-ins and their corrections, reminders and alerts, in a fixed number of
    queries.

    Left out on purpose: the webhook secret and activation-code digests (credentials, not
    facts about the patient) and the stored replies to retried check-ins (copies of the
    check-ins already here).
    """
    record = Patient.objects.filter(id=patient.id).values(
        *PATIENT_FIELDS, "clinic__name", "user__username", "user__is_active"
    )[0]
    record["clinic"] = record.pop("clinic__name")
    record["username"] = record.pop("user__username")
    record["activated"] = record.pop("user__is_active")
    preference = (
        ReminderPreference.objects.filter(patient=patient).values(*PREFERENCE_FIELDS).first()
    )
    prescriptions = list(
        Prescription.objects.filter(patient=patient)
        .order_by("start_date", "id")
        .values(*PRESCRIPTION_FIELDS)
    )
    ids = [p["id"] for p in prescriptions]
    today = local_today(patient.zone, now)
    slots = PrescriptionSlot.objects.filter(prescription_id__in=ids).order_by("time", "kind")
    history = StatusChange.objects.filter(prescription_id__in=ids).order_by("effective_at", "id")
    for prescription in prescriptions:
        prescription["protocol"] = prescription.pop("protocol__slug")
        # As the API reads it: past its end date it has ended, whatever the stored cache.
        stored, end_date = prescription["status"], prescription["end_date"]
        prescription["status"] = status_read(stored, end_date, today)
        first, last = (
            prescription.pop("clinician__first_name"),
            prescription.pop("clinician__last_name"),
        )
        prescription["clinician"] = f"{first} {last}".strip()
        prescription["slots"] = []
        prescription["history"] = []
    by_id = {p["id"]: p for p in prescriptions}
    for slot in slots.values("prescription_id", "kind", "time"):
        by_id[slot.pop("prescription_id")]["slots"].append(slot)
    for change in history.values("prescription_id", "status", "effective_at", "reason"):
        by_id[change.pop("prescription_id")]["history"].append(change)
    return {
        "exported_at": now or timezone.now(),
        "patient": record,
        "reminder_preferences": preference,
        "prescriptions": prescriptions,
        "check_ins": list(
            CheckIn.objects.filter(patient=patient)
            .order_by("performed_at", "id")
            .values(*CHECKIN_FIELDS)
        ),
        # What the patient corrected or withdrew of their check-ins, as it was before.
        "check_in_corrections": list(
            CheckInCorrection.objects.filter(patient=patient)
            .order_by("at", "id")
            .values("check_in_id", "kind", "at", "before", "after")
        ),
        "reminders": list(
            Reminder.objects.filter(prescription__patient=patient)
            .order_by("fire_at", "id")
            .values(*REMINDER_FIELDS)
        ),
        "alerts": list(
            Alert.objects.filter(patient=patient).order_by("created_at", "id").values(*ALERT_FIELDS)
        ),
        # What other apps keep of the patient (outcomes: questionnaire_responses).
        **extensions.export_sections(patient),
    }
