from datetime import datetime

from outcomes.models import Questionnaire
from outcomes.services import questionnaire_response_create


def respond(patient, slug: str, answers: list[dict], at: datetime):
    """A response of the patient's own, answered at `at` (through the service)."""
    return questionnaire_response_create(
        patient=patient,
        questionnaire=Questionnaire.objects.get(slug=slug),
        answers=answers,
        created_by=patient.user,
        answered_at=at,
    )


def psfs(*values: int, labels=("socks", "stairs", "lifting")) -> list[dict]:
    return [
        {"item": f"activity_{n}", "value": value, "label": label}
        for n, (value, label) in enumerate(zip(values, labels, strict=False), start=1)
    ]


def pgic(value: int) -> list[dict]:
    return [{"item": "change", "value": value}]
