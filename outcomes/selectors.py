"""Computed reads: each response beside its baseline, a patient's outcomes per instrument,
the clinic's summary. Each answers in a constant number of queries however many patients
and responses there are."""

import statistics
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, Max, Min, OuterRef, QuerySet, Subquery

from outcomes import scoring
from outcomes.models import Questionnaire, QuestionnaireResponse
from patients.models import Patient
from prescriptions.adherence import round1

# A patient counts as followed up once a response comes this long after their baseline:
# the clinic's summary judges change at four weeks or more, not after a few days.
FOLLOW_UP = timedelta(days=28)


def first_of_instrument(field: str) -> Subquery:
    """The `field` of the outer row's patient's first response to the same instrument."""
    return Subquery(
        QuestionnaireResponse.objects.filter(
            patient_id=OuterRef("patient_id"), questionnaire_id=OuterRef("questionnaire_id")
        )
        .order_by("answered_at", "id")
        .values(field)[:1]
    )


def with_baseline(queryset: QuerySet[QuestionnaireResponse]) -> QuerySet:
    """Each response with its questionnaire and `baseline_score`, in the same query."""
    return queryset.select_related("questionnaire").annotate(
        baseline_score=first_of_instrument("score")
    )


def response_outcome(response: QuestionnaireResponse) -> dict:
    """`baseline_score, change, responder` of a response from `with_baseline`: its change
    is its own score against the patient's baseline (for the latest, the patient's
    change). An instrument without a baseline (PGIC) answers null for both."""
    rules = response.questionnaire.scoring
    baseline = response.baseline_score if rules.has_baseline else None
    return {
        "baseline_score": baseline,
        "change": scoring.change(rules, baseline, response.score),
        "responder": scoring.is_responder(rules, baseline, response.score),
    }


def patient_outcomes(patient: Patient) -> list[dict]:
    """Per instrument the patient answered (by slug): baseline, latest, change, responder,
    and the series of scores; dates are the patient's local dates."""
    return [outcome for _, outcome in patient_outcomes_with_instruments(patient)]


def patient_outcomes_with_instruments(
    patient: Patient,
) -> list[tuple[Questionnaire, dict]]:
    """`patient_outcomes`, each beside its instrument (for the pages that draw it): one
    query."""
    responses = (
        QuestionnaireResponse.objects.filter(patient=patient)
        .select_related("questionnaire")
        .order_by("questionnaire__slug", "answered_at", "id")
    )
    zone = patient.zone
    by_instrument: dict[int, list[QuestionnaireResponse]] = {}
    for response in responses:
        by_instrument.setdefault(response.questionnaire_id, []).append(response)
    outcomes = []
    for rows in by_instrument.values():
        questionnaire = rows[0].questionnaire
        rules = questionnaire.scoring
        first, last = rows[0], rows[-1]
        baseline = first.score if rules.has_baseline else None
        outcome = {
            "questionnaire": questionnaire.slug,
            "baseline": (
                {"score": first.score, "date": first.answered_at.astimezone(zone).date()}
                if rules.has_baseline
                else None
            ),
            "latest": {"score": last.score, "date": last.answered_at.astimezone(zone).date()},
            "change": scoring.change(rules, baseline, last.score),
            "responder": scoring.is_responder(rules, baseline, last.score),
            "series": [
                {"date": row.answered_at.astimezone(zone).date(), "score": row.score}
                for row in rows
            ],
        }
        outcomes.append((questionnaire, outcome))
    return outcomes


def clinic_outcomes(clinic_id: int, *, names: bool = False) -> list[dict]:
    """Per instrument (every one loaded, by slug): patients with a baseline, patients
    followed up (a response 28 days or more after their baseline), and among those the
    responders, their share (percent, one decimal) and the median change of their latest
    score from their baseline. For an instrument without a baseline (PGIC) the first
    answer stands as the start of the four weeks, and the median change is null.

    Archived patients count: a discharged patient's outcome is the one that matters most.
    `names` adds each instrument's `name` (for a page). Two queries: the instruments, and
    one row per patient and instrument."""
    questionnaires = list(Questionnaire.objects.order_by("slug"))
    pairs = (
        QuestionnaireResponse.objects.filter(patient__clinic_id=clinic_id)
        .values("patient_id", "questionnaire_id")
        .annotate(
            first_at=Min("answered_at"),
            last_at=Max("answered_at"),
            first_score=first_of_instrument("score"),
            last_score=Subquery(
                QuestionnaireResponse.objects.filter(
                    patient_id=OuterRef("patient_id"),
                    questionnaire_id=OuterRef("questionnaire_id"),
                )
                .order_by(F("answered_at").desc(), F("id").desc())
                .values("score")[:1]
            ),
        )
        .order_by()
    )
    tallies = {
        q.id: {"with_baseline": 0, "followed_up": 0, "responders": 0, "changes": []}
        for q in questionnaires
    }
    rules = {q.id: q.scoring for q in questionnaires}
    for pair in pairs:
        tally = tallies[pair["questionnaire_id"]]
        tally["with_baseline"] += 1
        if pair["last_at"] - pair["first_at"] < FOLLOW_UP:
            continue
        tally["followed_up"] += 1
        rule = rules[pair["questionnaire_id"]]
        baseline = pair["first_score"] if rule.has_baseline else None
        tally["responders"] += scoring.is_responder(rule, baseline, pair["last_score"])
        change = scoring.change(rule, baseline, pair["last_score"])
        if change is not None:
            tally["changes"].append(change)
    return [
        {
            "questionnaire": q.slug,
            "patients_with_baseline": tally["with_baseline"],
            "patients_followed_up": tally["followed_up"],
            "responders": tally["responders"],
            "responder_pct": round1(tally["responders"] * 100, tally["followed_up"]),
            "median_change": _median(tally["changes"]),
            **({"name": q.name} if names else {}),
        }
        for q in questionnaires
        for tally in [tallies[q.id]]
    ]


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return round1(statistics.median(values), 1)
