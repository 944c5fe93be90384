"""The clinic's outcome summary at 10,000 patients x 6 responses against a raw GROUP BY.

    createdb -h 127.0.0.1 -U postgres kr_outcomes_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_outcomes_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_outcomes_bench \\
        .venv/bin/python bench/outcomes_summary.py [--patients 10000] [--repeat 5]

Runs on the configured database (migrated), in a clinic of its own
(`bench-outcomes-<patients>`), made once by `manage.py seed_bulk` (14 days of check-ins,
so that the clinic table has rows to read) plus six responses a patient written in bulk:
the PSFS 42 and 28 days ago and today, the PGIC 28 and 14 days ago and today, scored by
outcomes.scoring; kept for the next run.

Measured, each right after its baseline: the summary's selector
(outcomes.selectors.clinic_outcomes), GET outcomes/ through the real HTTP stack (Bearer
token, view, JSON), and its CSV; the baseline is one raw SQL GROUP BY over the same
clinic's responses (per patient and instrument: first and last answer instants and a
count). Targets: at most 2x the baseline, and no more queries than the clinic table's own
page (GET adherence/?page_size=100), measured in the same run. Results go to RESULTS.md.
"""

import argparse
import random
import time
from datetime import timedelta
from functools import partial

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

# harness sets Django up, so it comes before any project import.
from harness import record, signed_in, timed

from clinic.models import Clinic
from outcomes import scoring
from outcomes.models import Questionnaire, QuestionnaireResponse
from outcomes.selectors import clinic_outcomes

TARGET = 2.0
DAYS = 14

RAW = """
SELECT r.patient_id, r.questionnaire_id, MIN(r.answered_at), MAX(r.answered_at), COUNT(*)
FROM outcomes_questionnaireresponse r JOIN patients_patient p ON p.id = r.patient_id
WHERE p.clinic_id = %s
GROUP BY r.patient_id, r.questionnaire_id
"""

# (instrument, days ago) of each patient's six responses.
PLAN = [("psfs", 42), ("psfs", 28), ("psfs", 0), ("pgic", 28), ("pgic", 14), ("pgic", 0)]


def clinic_of(size: int) -> Clinic:
    slug = f"bench-outcomes-{size}"
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None or clinic.patients.count() != size:
        call_command("seed_bulk", patients=size, days=DAYS, clinic=slug, verbosity=0)
        clinic = Clinic.objects.get(slug=slug)
    if not QuestionnaireResponse.objects.filter(patient__clinic=clinic).exists():
        responses_for(clinic)
    return clinic


def responses_for(clinic: Clinic) -> None:
    """Six scored responses a patient, in bulk (the service's checks are the tests')."""
    rng = random.Random(19)
    instruments = {q.slug: q for q in Questionnaire.objects.filter(slug__in=["psfs", "pgic"])}
    now = timezone.now()
    rows = []
    patients = list(clinic.patients.values_list("id", "user_id"))
    for patient_id, user_id in patients:
        start = rng.randint(0, 10)
        for slug, days_ago in PLAN:
            questionnaire = instruments[slug]
            if slug == "psfs":
                values = [max(0, min(10, start + rng.randint(-2, 6))) for _ in range(3)]
                answers = [
                    {"item": f"activity_{n}", "value": v, "label": f"activity {n}"}
                    for n, v in enumerate(values, start=1)
                ]
            else:
                answers = [{"item": "change", "value": rng.randint(1, 7)}]
            values_by_item = {a["item"]: a["value"] for a in answers}
            rows.append(
                QuestionnaireResponse(
                    patient_id=patient_id,
                    questionnaire=questionnaire,
                    questionnaire_version=questionnaire.version,
                    answered_at=now - timedelta(days=days_ago, minutes=rng.randint(0, 600)),
                    answers=answers,
                    score=scoring.score(questionnaire.instrument, values_by_item),
                    created_by_id=user_id,
                )
            )
    QuestionnaireResponse.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE outcomes_questionnaireresponse")
    print(f"{len(rows)} responses written")


def raw_group_by(clinic: Clinic):
    with connection.cursor() as cursor:
        cursor.execute(RAW, [clinic.id])
        return cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    began = time.perf_counter()
    clinic = clinic_of(args.patients)
    responses = QuestionnaireResponse.objects.filter(patient__clinic=clinic).count()
    took = time.perf_counter() - began
    print(f"{args.patients} patients, {responses} responses ready in {took:.0f} s")
    client = signed_in(clinic.users.get(role="clinician"))

    _, table_queries, response = timed(
        partial(client.get, "/api/v1/adherence/", {"page_size": 100}), args.repeat
    )
    assert response.status_code == 200, response.status_code
    measures = {
        "clinic_outcomes() (the selector)": partial(clinic_outcomes, clinic.id),
        "GET outcomes/ (JSON)": partial(client.get, "/api/v1/outcomes/"),
        "GET outcomes/?format=csv": partial(client.get, "/api/v1/outcomes/", {"format": "csv"}),
    }
    rows = []
    for label, call in measures.items():
        # The baseline right before each figure, so both see the same machine.
        baseline, _, groups = timed(partial(raw_group_by, clinic), args.repeat)
        seconds, queries, answer = timed(call, args.repeat)
        if hasattr(answer, "status_code"):
            assert answer.status_code == 200, answer.status_code
        ratio = seconds / baseline
        rows.append(
            [
                f"{args.patients:,}",
                label,
                f"{seconds * 1000:.0f} ms",
                f"{baseline * 1000:.0f} ms ({len(groups):,} groups)",
                f"{ratio:.2f}x",
                f"<= {TARGET}x",
                "met" if ratio <= TARGET else "missed",
                f"{queries} (table: {table_queries})",
                "met" if queries <= table_queries else "missed",
            ]
        )
    summary = {row["questionnaire"]: row for row in clinic_outcomes(clinic.id)}
    record(
        "Clinic outcome summary (PostgreSQL) against a raw GROUP BY of the same responses",
        rows,
        [
            "patients",
            "read",
            "median",
            "raw GROUP BY",
            "ratio",
            "target",
            "",
            "queries (clinic table's page)",
            "",
        ],
        notes=(
            f"{responses:,} responses ({len(PLAN)} a patient: PSFS 42 and 28 days ago and "
            "today, PGIC 28 and 14 days ago and today), median of "
            f"{args.repeat}. The clinic table's page is GET adherence/?page_size=100 in the "
            "same clinic, counted in the same run; both counts include the Bearer token's "
            "two queries and the audit entry where there is one. The summary read: "
            + "; ".join(
                f"{slug}: {row['patients_followed_up']:,} followed up, "
                f"{row['responders']:,} responders ({row['responder_pct']} %), median "
                f"change {row['median_change']}"
                for slug, row in summary.items()
            )
            + "."
        ),
    )


if __name__ == "__main__":
    main()
