"""What outcomes adds to the clinic team's pages, through prescriptions.extensions (the
patient page's card, the clinic page's summary and its table's column): prescriptions
never imports outcomes, so outcomes registers these in OutcomesConfig.ready()."""

from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery
from django.views.decorators.http import require_GET

from clinic.web import team_member_required
from outcomes import schedules, scoring
from outcomes.api.views import summary_csv
from outcomes.charts import outcome_chart
from outcomes.models import Questionnaire, QuestionnaireResponse, QuestionnaireSchedule
from outcomes.selectors import (
    clinic_outcomes,
    first_of_instrument,
    patient_outcomes_with_instruments,
    with_baseline,
)
from prescriptions.models import Prescription

PSFS = "psfs"


def _signed(value: Decimal) -> str:
    return f"+{value}" if value > 0 else f"{value}"


def verdict(questionnaire: Questionnaire, outcome: dict) -> dict:
    """The responder flag in words: `label` (Responder, Worse, Not a responder, Baseline
    only) and a sentence that gives the figures it rests on."""
    rules = questionnaire.scoring
    latest = outcome["latest"]
    if not rules.has_baseline:
        options = {
            option.value: option.text
            for item in questionnaire.instrument.items
            for option in item.options
        }
        answer = options.get(int(latest["score"]), str(latest["score"]))
        responder_words = " or ".join(f"“{options.get(v, v)}”" for v in rules.responder_values)
        return {
            "label": "Responder" if outcome["responder"] else "Not a responder",
            "kind": "better" if outcome["responder"] else "within",
            "text": f"Latest answer “{answer}” on {latest['date']:%b %-d, %Y}; a responder "
            f"answers {responder_words}.",
        }
    baseline, change = outcome["baseline"], outcome["change"]
    start = f"{baseline['score']} at the start ({baseline['date']:%b %-d})"
    if len(outcome["series"]) == 1:
        return {
            "label": "Baseline only",
            "kind": "within",
            "text": f"{start}; no follow-up answered yet.",
        }
    now = f"{latest['score']} now ({latest['date']:%b %-d})"
    meaningful = f"a change of {rules.mcid} in either direction is meaningful"
    if outcome["responder"]:
        label, kind = "Responder", "better"
    elif scoring.is_worse(rules, baseline["score"], latest["score"]):
        label, kind = "Worse than at the start", "worse"
    else:
        label, kind = "Not a responder", "within"
    return {
        "label": label,
        "kind": kind,
        "text": f"{start}, {now}: {_signed(change)}; {meaningful}.",
    }


def patient_section(patient) -> dict:
    """The patient page's outcome card: per instrument answered, its chart, verdict and
    the series as a table. One query."""
    instruments = []
    for questionnaire, outcome in patient_outcomes_with_instruments(patient):
        rules = questionnaire.scoring
        chart = outcome_chart(outcome["series"], rules)
        instruments.append(
            {
                "questionnaire": questionnaire,
                "outcome": outcome,
                "chart": chart,
                "points": chart.extras.get("points", []),
                "verdict": verdict(questionnaire, outcome),
                "higher_is_better": rules.higher_is_better,
                "has_baseline": rules.has_baseline,
                "mcid": rules.mcid,
                "band": chart.extras.get("band"),
            }
        )
    return {"outcome_instruments": instruments, "asked": asked_of(patient)}


def asked_of(patient) -> list[dict]:
    """What each of the patient's prescriptions still running asks for, in words: one
    query."""
    rows = (
        QuestionnaireSchedule.objects.filter(prescription__patient=patient)
        .exclude(prescription__status=Prescription.Status.ENDED)
        .select_related("questionnaire")
        .order_by("prescription_id", "questionnaire__slug")
    )
    plans: dict[int, list[str]] = {}
    for row in rows:
        plans.setdefault(row.prescription_id, []).append(
            f"the {row.questionnaire.name} "
            + schedules.describe(row.first_day, row.every_days, row.at_end)
        )
    return [{"prescription": pk, "words": "; ".join(words)} for pk, words in plans.items()]


@require_GET
@team_member_required
def summary_csv_download(request):
    """/staff/outcomes.csv: the summary of the clinic page's card, as GET outcomes/?format=csv
    answers it, with the byte order mark a spreadsheet needs. Counts only: no audit entry."""
    clinic = request.user.clinic
    return summary_csv(clinic_outcomes(clinic.id), clinic, bom=True)


def clinic_section(clinic_id: int) -> dict:
    """/staff/'s outcome summary: the clinic's figures per instrument (two queries)."""
    return {"outcome_summary": clinic_outcomes(clinic_id, names=True)}


def latest_psfs_change(patient_ids: list[int]) -> dict[int, dict]:
    """For the clinic table's column: each patient's latest PSFS response beside their
    baseline: {patient_id: {baseline_score, score, change, responder, worse}}. One query
    for the page's patients (the latest response per patient, with its baseline from a
    subquery)."""
    return _latest_psfs(Q(patient_id__in=patient_ids))


def clinic_psfs_change(clinic_id: int) -> dict[int, dict]:
    """`latest_psfs_change` of every patient of the clinic, in one query (the clinic's CSV)."""
    return _latest_psfs(Q(patient__clinic_id=clinic_id))


def _latest_psfs(whose: Q) -> dict[int, dict]:
    psfs = QuestionnaireResponse.objects.filter(questionnaire__slug=PSFS)
    latest_id = Subquery(
        psfs.filter(patient_id=OuterRef("patient_id"))
        .order_by("-answered_at", "-id")
        .values("id")[:1]
    )
    latest = psfs.filter(whose, id=latest_id).annotate(baseline_id=first_of_instrument("id"))
    rows = {}
    for response in with_baseline(latest):
        rules = response.questionnaire.scoring
        # A subquery's decimal comes back bare on SQLite (3 for 3.0).
        baseline = Decimal(response.baseline_score).quantize(Decimal("0.1"))
        rows[response.patient_id] = {
            "baseline_score": baseline,
            "score": response.score,
            "change": scoring.change(rules, baseline, response.score),
            "responder": scoring.is_responder(rules, baseline, response.score),
            "worse": scoring.is_worse(rules, baseline, response.score),
            "follow_up": response.id != response.baseline_id,
        }
    return rows


PSFS_CSV_HEADERS = ("psfs_baseline", "psfs_latest", "psfs_change", "psfs_responder")


def psfs_csv_cells(value: dict | None) -> list:
    """The clinic CSV's PSFS cells of one patient: empty without an answer, and the latest
    and change empty until a follow-up."""
    if value is None:
        return ["", "", "", ""]
    if not value["follow_up"]:
        return [value["baseline_score"], "", "", ""]
    return [
        value["baseline_score"],
        value["score"],
        value["change"],
        "true" if value["responder"] else "false",
    ]
