"""The demo patients' questionnaires (seed_demo, through prescriptions.extensions): a
PSFS baseline and two follow-ups for two of them, one a responder and one worse (so the
outcome_worsening alert shows), and a PGIC at each follow-up.

The baseline was taken at the assessment visit, nine days before the three weeks of
exercise began, so the last follow-up falls 28 days after it and the clinic's summary
counts both patients as followed up."""

from datetime import timedelta

from outcomes.models import Questionnaire
from outcomes.services import questionnaire_response_create

# Days ago of the baseline and the two follow-ups.
DAYS_AGO = (30, 16, 2)
# email → the activities in the patient's words, their ratings at each time, the PGIC
# answer at each follow-up.
ANSWERS = {
    "maya.chen@example.com": (
        ("putting on socks", "sitting through a film", "lifting the laundry basket"),
        ((3, 2, 4), (5, 5, 5), (7, 7, 6)),
        (2, 1),
    ),
    "arjun.mehta@example.com": (
        ("bowling at the cricket nets", "driving to work", "carrying the shopping"),
        ((6, 7, 5), (5, 6, 5), (3, 4, 3)),
        (4, 6),
    ),
}


def seed(patients: dict, now) -> str:
    psfs = Questionnaire.objects.get(slug="psfs")
    pgic = Questionnaire.objects.get(slug="pgic")
    seeded = 0
    for email, (activities, ratings, impressions) in ANSWERS.items():
        patient = patients.get(email)
        if patient is None or patient.questionnaire_responses.exists():
            continue
        for n, (days_ago, values) in enumerate(zip(DAYS_AGO, ratings, strict=True)):
            at = now - timedelta(days=days_ago, hours=3)
            answers = [
                {"item": f"activity_{k}", "value": value, "label": label}
                for k, (value, label) in enumerate(zip(values, activities, strict=True), start=1)
            ]
            questionnaire_response_create(
                patient=patient,
                questionnaire=psfs,
                answers=answers,
                created_by=patient.user,
                answered_at=at,
            )
            if n:
                questionnaire_response_create(
                    patient=patient,
                    questionnaire=pgic,
                    answers=[{"item": "change", "value": impressions[n - 1]}],
                    created_by=patient.user,
                    answered_at=at + timedelta(minutes=2),
                )
        seeded += 1
    return f"Seeded questionnaires for {seeded} demo patients." if seeded else ""
