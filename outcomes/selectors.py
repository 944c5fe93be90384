"""Computed reads: each response beside its baseline, a patient's outcomes per instrument,
the clinic's summary. Each answers in a constant number of queries however many patients
and responses there are."""

import statistics
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from clinic.permissions import in_reach
from outcomes import scoring
from outcomes.models import Questionnaire, QuestionnaireResponse
from patients.models import Patient
from prescriptions.adherence import round1

# A patient counts as followed up once a response comes this long after their baseline:
# the clinic's summary judges change at four weeks or more, not after a few days.
FOLLOW_UP = timedelta(days=28)


def responses_in_reach(user) -> QuerySet[QuestionnaireResponse]:
    """The responses the user may see, under the one rule of reach (clinic.permissions)."""
    return in_reach(QuestionnaireResponse.objects.all(), user)


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
    tallies = {
        q.id: {"with_baseline": 0, "followed_up": 0, "responders": 0, "changes": []}
        for q in questionnaires
    }
    rules = {q.id: q.scoring for q in questionnaires}
    for questionnaire_id, followed_up, first_score, last_score in _pairs(clinic_id):
        tally = tallies[questionnaire_id]
        tally["with_baseline"] += 1
        if not followed_up:
            continue
        tally["followed_up"] += 1
        rule = rules[questionnaire_id]
        baseline = _score(first_score) if rule.has_baseline else None
        latest = _score(last_score)
        tally["responders"] += scoring.is_responder(rule, baseline, latest)
        change = scoring.change(rule, baseline, latest)
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


# Whether the last answer came FOLLOW_UP or more after the first, in each database's terms.
FOLLOWED_UP_SQL = {
    "postgresql": f"g.last_at >= g.first_at + interval '{FOLLOW_UP.days} days'",
    # Instants are stored as UTC text ("YYYY-MM-DD HH:MM:SS.ffffff"): the date moved on,
    # the time kept to the microsecond (julianday() would round it).
    "sqlite": f"g.last_at >= date(g.first_at, '+{FOLLOW_UP.days} days') || substr(g.first_at, 11)",
}

# One row per patient and instrument: grouped first, and only then each group's first and
# last score looked up through the (patient, questionnaire, answered_at, id) index, once
# per group. (The ORM puts such lookups in the GROUP BY, where they run once per
# response, and it reads two instants a row; this reads two scores and a flag.)
PAIRS_SQL = """
SELECT g.questionnaire_id, {followed_up},
    (SELECT f.score FROM outcomes_questionnaireresponse f
     WHERE f.patient_id = g.patient_id AND f.questionnaire_id = g.questionnaire_id
     ORDER BY f.answered_at, f.id LIMIT 1),
    (SELECT l.score FROM outcomes_questionnaireresponse l
     WHERE l.patient_id = g.patient_id AND l.questionnaire_id = g.questionnaire_id
     ORDER BY l.answered_at DESC, l.id DESC LIMIT 1)
FROM (
    SELECT r.patient_id, r.questionnaire_id,
        MIN(r.answered_at) AS first_at, MAX(r.answered_at) AS last_at
    FROM outcomes_questionnaireresponse r
    JOIN patients_patient p ON p.id = r.patient_id
    WHERE p.clinic_id = %s
    GROUP BY r.patient_id, r.questionnaire_id
) g
"""


def _pairs(clinic_id: int) -> list[tuple]:
    """(questionnaire_id, followed up, first score, last score) per patient and
    instrument of the clinic."""
    sql = PAIRS_SQL.format(followed_up=FOLLOWED_UP_SQL[connection.vendor])
    with connection.cursor() as cursor:
        cursor.execute(sql, [clinic_id])
        return cursor.fetchall()


def _score(value) -> Decimal:
    """A score as read raw: a Decimal from PostgreSQL, a number from SQLite."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.1"))


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return round1(statistics.median(values), 1)
