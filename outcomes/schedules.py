"""Which questionnaires a prescription asks for and when, and which are due now.

A scheduled date is reached in the patient's local date (their zone, as every "today" of
the product). A questionnaire is due from a scheduled date until the patient answers it
(a response to that instrument on or after that date, local) or until DUE_FOR days have
passed: a chance missed is not asked for months later, the next scheduled date asks again.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Max

from outcomes.models import Questionnaire, QuestionnaireResponse, QuestionnaireSchedule
from patients.models import Patient
from prescriptions.models import Prescription, StatusChange
from prescriptions.schedule import local_date_of, local_today

# slug → (first_day, every_days, at_end): the PSFS at the start and every 14 days, the PGIC
# every 14 days from day 14 (it rates change, so it has nothing to rate at the start), and
# both at the end.
DEFAULTS = {"psfs": (0, 14, True), "pgic": (14, 14, True)}
DUE_FOR = timedelta(days=14)
FIRST_DAY_MAX = 3650
EVERY_DAYS_MAX = 365


def entry_faults(*, first_day: int | None, every_days: int | None, at_end: bool) -> dict:
    """What is wrong with one instrument's timing, by field (empty when nothing is): the
    API and the clinician's form both ask this."""
    if first_day is None and not at_end:
        return {"first_day": "Give a first day, or ask on the last day, or both."}
    if every_days is not None and first_day is None:
        return {"every_days": "Repeating needs a first day to count from."}
    return {}


def describe(first_day: int | None, every_days: int | None, at_end: bool) -> str:
    """An instrument's timing in words: "at the start, every 14 days and on the last day"."""
    parts = []
    if first_day is not None:
        parts.append("at the start" if first_day == 0 else f"on day {first_day}")
        if every_days:
            parts[-1] += f", then every {every_days} days"
    if at_end:
        parts.append("on the last day")
    return " and ".join(parts)


def last_scheduled(
    *,
    start: date,
    end: date | None,
    today: date,
    first_day: int | None,
    every_days: int | None,
    at_end: bool,
) -> date | None:
    """The latest scheduled date on or before `today`, or None. Pure date arithmetic."""
    found = None
    if first_day is not None:
        first = start + timedelta(days=first_day)
        last = today if end is None else min(today, end)
        if first <= last:
            found = first
            if every_days:
                found = first + timedelta(days=(last - first).days // every_days * every_days)
    if at_end and end is not None and end <= today and (found is None or end > found):
        found = end
    return found


def end_of(prescription: Prescription, ended_at) -> date | None:
    """Its last day: the end date, else the local date it was ended on (ended_at), else
    None while it runs on."""
    if prescription.end_date is not None:
        return prescription.end_date
    if prescription.status == Prescription.Status.ENDED and ended_at is not None:
        return local_date_of(ended_at, prescription.patient.zone)
    return None


@dataclass(frozen=True)
class Due:
    questionnaire: Questionnaire
    due_date: date
    prescription_id: int


def due_questionnaires(patient: Patient, today: date | None = None) -> list[Due]:
    """The questionnaires due now for the patient, one per instrument (the latest date when
    two prescriptions ask for it), by slug. Three queries."""
    today = today or local_today(patient.zone)
    return due_on_days([(patient, today)])[patient.id, today]


def due_on_days(patient_days: list[tuple[Patient, date]]) -> dict[tuple[int, date], list[Due]]:
    """`due_questionnaires` of each (patient, their local date) at once, by (patient id,
    date): three queries however many (a minute's reminders ask it together)."""
    answer: dict[tuple[int, date], list[Due]] = {(p.id, day): [] for p, day in patient_days}
    patients = {patient.id: patient for patient, _ in patient_days}
    schedules = list(
        QuestionnaireSchedule.objects.filter(prescription__patient_id__in=patients)
        .select_related("questionnaire", "prescription")
        .order_by("id")
    )
    if not schedules:
        return answer
    ended = dict(
        StatusChange.objects.filter(
            prescription__patient_id__in=patients, status=Prescription.Status.ENDED
        )
        .order_by("effective_at")
        .values_list("prescription_id", "effective_at")
    )
    by_patient: dict[int, list[QuestionnaireSchedule]] = {}
    for row in schedules:
        row.prescription.patient = patients[row.prescription.patient_id]
        by_patient.setdefault(row.prescription.patient_id, []).append(row)
    found = {
        (patient.id, today): _due_by_instrument(by_patient.get(patient.id, []), ended, today)
        for patient, today in patient_days
    }
    asked = {q for dues in found.values() for q in dues}
    last_answered = (
        {
            (patient_id, questionnaire_id): local_date_of(answered_at, patients[patient_id].zone)
            for patient_id, questionnaire_id, answered_at in QuestionnaireResponse.objects.filter(
                patient_id__in=patients, questionnaire_id__in=asked
            )
            .values("patient_id", "questionnaire_id")
            .annotate(last=Max("answered_at"))
            .values_list("patient_id", "questionnaire_id", "last")
        }
        if asked
        else {}
    )
    for (patient_id, today), dues in found.items():
        answer[patient_id, today] = sorted(
            (
                due
                for questionnaire_id, due in dues.items()
                if last_answered.get((patient_id, questionnaire_id), date.min) < due.due_date
            ),
            key=lambda due: due.questionnaire.slug,
        )
    return answer


def _due_by_instrument(
    rows: list[QuestionnaireSchedule], ended: dict, today: date
) -> dict[int, Due]:
    """Of one patient's schedule rows, the latest date reached per instrument, while it is
    due (the answers not yet looked at)."""
    found: dict[int, Due] = {}
    for row in rows:
        prescription = row.prescription
        when = last_scheduled(
            start=prescription.start_date,
            end=end_of(prescription, ended.get(prescription.id)),
            today=today,
            first_day=row.first_day,
            every_days=row.every_days,
            at_end=row.at_end,
        )
        if when is None or today - when >= DUE_FOR:
            continue
        held = found.get(row.questionnaire_id)
        if held is None or when > held.due_date:
            found[row.questionnaire_id] = Due(row.questionnaire, when, prescription.id)
    return found


def schedule_on_prescribing(prescription: Prescription, entries: list[dict] | None) -> None:
    """The schedule of a new prescription, inside prescription_create's transaction (through
    prescriptions.extensions): the entries the clinician chose, or the defaults."""
    if entries is None:
        schedule_defaults_create(prescription)
    else:
        QuestionnaireSchedule.objects.bulk_create(
            [QuestionnaireSchedule(prescription=prescription, **entry) for entry in entries]
        )


def schedule_defaults_create(prescription: Prescription) -> None:
    """The default schedule of a new prescription."""
    questionnaires = Questionnaire.objects.filter(slug__in=DEFAULTS)
    QuestionnaireSchedule.objects.bulk_create(
        [
            QuestionnaireSchedule(
                prescription=prescription,
                questionnaire=questionnaire,
                first_day=DEFAULTS[questionnaire.slug][0],
                every_days=DEFAULTS[questionnaire.slug][1],
                at_end=DEFAULTS[questionnaire.slug][2],
            )
            for questionnaire in questionnaires
        ]
    )


@transaction.atomic
def questionnaire_schedule_replace(
    *, prescription: Prescription, entries: list[dict]
) -> list[QuestionnaireSchedule]:
    """Replaces the prescription's schedule whole: `entries` of {questionnaire,
    first_day, every_days, at_end}; an instrument left out is no longer asked for."""
    Prescription.objects.select_for_update().get(pk=prescription.pk)
    QuestionnaireSchedule.objects.filter(prescription=prescription).delete()
    return QuestionnaireSchedule.objects.bulk_create(
        [QuestionnaireSchedule(prescription=prescription, **entry) for entry in entries]
    )
