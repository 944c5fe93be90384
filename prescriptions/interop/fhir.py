"""A patient's record as a FHIR R4 `Bundle` of type `collection`.

`patient_bundle` reads everything in a fixed number of queries; `build_bundle` is pure: it
turns those rows into FHIR JSON. The tests validate every bundle they fetch with the
`fhir.resources` models (the R4B package's: for every element this export uses, R4B 4.3.0
is identical to R4 4.0.1). The models are not run here: they cost about 5 ms a resource,
seconds for a year of check-ins.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from patients.models import Patient
from prescriptions import extensions
from prescriptions.models import CheckIn, Prescription, PrescriptionSlot, Reminder, status_read
from prescriptions.schedule import local_today

LOINC = "http://loinc.org"
PAIN_SCORE = "72514-3"  # Pain severity - 0-10 verbal numeric rating [Score] - Reported
EVENT_TIMING = "http://terminology.hl7.org/CodeSystem/v3-TimingEvent"
# The slot kinds as FHIR's EventTiming codes: HS "before sleep", WAKE "upon waking".
SLOT_TIMING = {
    "bedtime": ("HS", "Hour of sleep"),
    "morning": ("WAKE", "Upon waking"),
}
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/tz-code"

# Prescription status → CarePlan.status, and the status of each of its activities.
CAREPLAN_STATUS = {"active": "active", "paused": "on-hold", "ended": "completed"}
ACTIVITY_STATUS = {"active": "scheduled", "paused": "on-hold", "ended": "completed"}

# A stable namespace, so exporting the same record twice gives the same entry URLs.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:knee-rocks-clinic:fhir")


def patient_bundle(*, patient: Patient, now: datetime) -> dict:
    """The patient's whole record as a FHIR Bundle (a JSON-ready dict).

    Four queries whatever the size of the record: prescriptions (with their protocol and clinician),
    their slots, the check-ins and the sent reminders. `patient.clinic` is read too, so
    load it with the patient.
    """
    prescriptions = list(
        Prescription.objects.filter(patient=patient)
        .select_related("protocol", "clinician")
        .prefetch_related(Prefetch("slots", queryset=PrescriptionSlot.objects.order_by("time")))
        .order_by("start_date", "id")
    )
    check_ins = CheckIn.objects.filter(patient=patient).order_by("performed_at", "id")
    reminders = Reminder.objects.filter(
        prescription__patient=patient, status=Reminder.Status.SENT
    ).order_by("sent_at", "id")
    return build_bundle(
        patient=patient,
        clinic_name=patient.clinic.name,
        prescriptions=prescriptions,
        check_ins=check_ins,
        reminders=reminders,
        now=now,
        # The resources other apps add (outcomes: its questionnaires and the answers).
        more=extensions.fhir_resources(patient, now),
    )


def build_bundle(
    *,
    patient: Patient,
    clinic_name: str,
    prescriptions: Iterable[Prescription],
    check_ins: Iterable[CheckIn],
    reminders: Iterable[Reminder],
    now: datetime,
    more: Iterable[dict] = (),
) -> dict:
    """The Bundle from rows already read; no database access beyond what they carry.
    `more`: resources built elsewhere (prescriptions.extensions), added as they are."""
    tz = patient.zone
    today = local_today(tz, now)
    subject = reference("Patient", patient.id)
    resources = [_patient(patient, clinic_name)]
    resources += [_care_plan(rx, subject, today) for rx in prescriptions]
    for check_in in check_ins:
        resources += _pain_observations(check_in, subject, tz)
    resources += [_communication(reminder, subject, tz) for reminder in reminders]
    resources += more
    return resource(
        "Bundle",
        type="collection",
        timestamp=now.isoformat(),
        entry=[
            {"fullUrl": _full_url(r["resourceType"], r["id"]), "resource": r} for r in resources
        ],
    )


def resource(resource_type: str, **elements) -> dict:
    """A resource's JSON; FHIR has no nulls, so an element without a value is left out."""
    return {
        "resourceType": resource_type,
        **{name: value for name, value in elements.items() if value is not None},
    }


# --- Resources ---------------------------------------------------------------------------


def _patient(patient: Patient, clinic_name: str) -> dict:
    telecom = [{"system": "email", "value": patient.email, "use": "home"}]
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    return resource(
        "Patient",
        id=str(patient.id),
        # The zone every local time in this record (slots, dates) is read in.
        extension=[{"url": TIMEZONE_EXTENSION, "valueCode": patient.timezone}],
        active=True,
        name=[{"family": patient.last_name, "given": [patient.first_name], "use": "official"}],
        telecom=telecom,
        managingOrganization={"display": clinic_name},
    )


def _care_plan(rx: Prescription, subject: dict, today: date) -> dict:
    status = status_read(rx.status, rx.end_date, today)
    period = {"start": rx.start_date.isoformat()}
    if rx.end_date:
        period["end"] = rx.end_date.isoformat()
    return resource(
        "CarePlan",
        id=str(rx.id),
        status=CAREPLAN_STATUS[status],
        intent="plan",
        title=rx.protocol.name,
        description=rx.protocol.summary,
        subject=subject,
        period=period,
        created=rx.created_at.isoformat(),
        author={"display": rx.clinician.get_full_name() or "Prescribing clinician"},
        activity=[_activity(rx, slot, ACTIVITY_STATUS[status]) for slot in rx.slots.all()],
        note=[{"text": rx.notes}] if rx.notes else None,
    )


def _activity(rx: Prescription, slot: PrescriptionSlot, status: str) -> dict:
    code, display = SLOT_TIMING[slot.kind]
    return {
        "detail": {
            "kind": "ServiceRequest",
            "code": {"text": rx.protocol.name},
            "status": status,
            "scheduledTiming": {
                # FHIR forbids `when` beside `timeOfDay` in a repeat, so the kind of session
                # is named by the timing's code instead.
                "code": {
                    "coding": [{"system": EVENT_TIMING, "code": code, "display": display}],
                    "text": slot.kind,
                },
                "repeat": {
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "d",
                    "timeOfDay": [f"{slot.time:%H:%M:%S}"],
                },
            },
            "description": f"{rx.protocol.name}, {slot.kind} session at "
            f"{slot.time:%H:%M} local time",
        }
    }


def _pain_observations(check_in: CheckIn, subject: dict, tz: ZoneInfo) -> list[dict]:
    scores = [("before", check_in.pain_before), ("after", check_in.pain_after)]
    return [
        resource(
            "Observation",
            id=f"{check_in.id}-pain-{moment}",
            status="final",
            category=[
                {
                    "coding": [
                        {"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
                    ]
                }
            ],
            code={
                "coding": [
                    {
                        "system": LOINC,
                        "code": PAIN_SCORE,
                        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                    }
                ],
                "text": f"Pain {moment} the session",
            },
            subject=subject,
            basedOn=[reference("CarePlan", check_in.prescription_id)],
            # The patient's own wall clock, with its offset on that date.
            effectiveDateTime=check_in.performed_at.astimezone(tz).isoformat(),
            valueInteger=score,
        )
        for moment, score in scores
        if score is not None
    ]


def _communication(reminder: Reminder, subject: dict, tz: ZoneInfo) -> dict:
    return resource(
        "Communication",
        id=str(reminder.id),
        status="completed",
        category=[{"text": "reminder"}],
        medium=[{"text": reminder.channel}],
        subject=subject,
        recipient=[subject],
        basedOn=[reference("CarePlan", reminder.prescription_id)],
        sent=reminder.sent_at.astimezone(tz).isoformat(),
        payload=[
            {
                "contentString": f"Reminder for the {reminder.slot} session of "
                f"{reminder.local_date.isoformat()}"
            }
        ],
    )


# --- References --------------------------------------------------------------------------


def _full_url(resource_type: str, resource_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{resource_type}/{resource_id}')}"


def reference(resource_type: str, resource_id: int) -> dict:
    """A reference that resolves inside the bundle: to the entry's `fullUrl`."""
    return {"reference": _full_url(resource_type, str(resource_id))}
