"""Writes: a patient's questionnaire response, and an instrument's definition."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clinic import events
from clinic.models import User
from outcomes import scoring
from outcomes.answers import clean_answers, labels_of, values_of
from outcomes.definitions import Instrument
from outcomes.models import Questionnaire, QuestionnaireResponse, questionnaire_fields
from patients.models import Patient
from prescriptions.alerts import outcome_worsening_alert_raise
from prescriptions.models import Prescription


def baseline_of(*, patient_id: int, questionnaire_id: int) -> QuestionnaireResponse | None:
    """The patient's first response to the instrument: the baseline every later one is
    compared with."""
    return (
        QuestionnaireResponse.objects.filter(
            patient_id=patient_id, questionnaire_id=questionnaire_id
        )
        .order_by("answered_at", "id")
        .first()
    )


@transaction.atomic
def questionnaire_response_create(
    *,
    patient: Patient,
    questionnaire: Questionnaire,
    answers: list,
    created_by: User,
    answered_at: datetime | None = None,
) -> QuestionnaireResponse:
    """Checks the answers, scores them and stores the response; a fault on any item stores
    nothing (outcomes.answers.AnswersInvalid, item id → messages).

    The patient's row is locked first, so that two first responses sent at once cannot
    both be taken for the baseline (and both name the activities)."""
    Patient.objects.select_for_update().get(pk=patient.pk)
    baseline = baseline_of(patient_id=patient.pk, questionnaire_id=questionnaire.pk)
    instrument = questionnaire.instrument
    cleaned = clean_answers(
        instrument,
        answers,
        baseline_labels=None if baseline is None else labels_of(baseline.answers),
    )
    response = QuestionnaireResponse.objects.create(
        patient=patient,
        questionnaire=questionnaire,
        questionnaire_version=questionnaire.version,
        answered_at=answered_at or timezone.now(),
        answers=cleaned,
        score=scoring.score(instrument, values_of(cleaned)),
        created_by=created_by,
    )
    events.record(
        events.Type.QUESTIONNAIRE_RESPONSE_CREATED,
        clinic_id=patient.clinic_id,
        patient=patient.id,
        questionnaire_response=response.id,
    )
    if baseline is not None and scoring.is_worse(
        questionnaire.scoring, baseline.score, response.score
    ):
        _worsening_alert_raise(response, baseline)
    return response


def _worsening_alert_raise(response: QuestionnaireResponse, baseline: QuestionnaireResponse):
    """The `outcome_worsening` alert for a score worse than the baseline by at least the
    meaningful change, in the response's transaction (one open per patient)."""
    questionnaire = response.questionnaire
    rules = questionnaire.scoring
    change = scoring.change(rules, baseline.score, response.score)
    prescription_id = (
        Prescription.objects.filter(patient_id=response.patient_id)
        .order_by("-start_date", "-id")
        .values_list("id", flat=True)
        .first()
    )
    direction = "lower" if rules.higher_is_better else "higher"
    outcome_worsening_alert_raise(
        patient_id=response.patient_id,
        prescription_id=prescription_id,
        details={
            "questionnaire": questionnaire.slug,
            "response": response.id,
            "baseline_score": str(baseline.score),
            "score": str(response.score),
            "change": str(change),
            "message": (
                f"{questionnaire.name}: {response.score}, {direction} (worse) than "
                f"{baseline.score} at the start; a change of {rules.mcid} or more is "
                "meaningful."
            ),
        },
    )


class DefinitionConflict(Exception):
    """Loading the definition would change the meaning of stored scores."""


@transaction.atomic
def questionnaire_load(*, instrument: Instrument) -> tuple[Questionnaire, str]:
    """Stores an instrument's definition: one row per slug, replaced by a higher version
    only while no response was scored by the one stored (a stored score must stay
    reproducible from its definition). Answers the row and `created`, `updated` or
    `unchanged`."""
    fields = questionnaire_fields(instrument)
    current = Questionnaire.objects.select_for_update().filter(slug=instrument.slug).first()
    if current is None:
        return Questionnaire.objects.create(slug=instrument.slug, **fields), "created"
    if current.instrument == instrument:
        return current, "unchanged"
    if instrument.version <= current.version:
        raise DefinitionConflict(
            f"{instrument.slug} version {current.version} is loaded already; a changed "
            f"definition needs a version above {current.version}."
        )
    used = current.responses.count()
    if used:
        raise DefinitionConflict(
            f"{used} response(s) were scored by {instrument.slug} version "
            f"{current.version}; load the new definition under a new slug instead."
        )
    for name, value in fields.items():
        setattr(current, name, value)
    current.save()
    current.__dict__.pop("_instrument", None)
    return current, "updated"
