"""A patient's questionnaire responses in their export and in their FHIR bundle (added
through prescriptions.extensions; see outcomes/hooks.py).

FHIR: each instrument the patient answered is a `Questionnaire` (identified by its
canonical URL and version), each response a `QuestionnaireResponse` that names it by
`url|version`. An item that takes a label (a PSFS activity) is a group of two questions,
the activity in the patient's words and its rating; the score is a read-only decimal
question of its own, as it was computed when the patient answered.
"""

from django.conf import settings

from outcomes.models import Questionnaire, QuestionnaireResponse
from prescriptions.interop import columns, reference, resource

# Who typed the answers in is the clinic's bookkeeping; the patient is the subject.
RESPONSE_FIELDS = columns(
    QuestionnaireResponse, leave_out={"patient_id", "questionnaire_id", "created_by_id"}
)
# The placeholder the shipped instruments carry; the bundle names them under the
# deployment's own base instead (settings.FHIR_CANONICAL_BASE).
SHIPPED_BASE = "https://kneerocks.example/fhir"
SCORE_ITEM = "score"


def patient_responses(patient) -> list[dict]:
    """The export's `questionnaire_responses`, oldest first: one query."""
    rows = (
        QuestionnaireResponse.objects.filter(patient=patient)
        .order_by("answered_at", "id")
        .values(*RESPONSE_FIELDS, "questionnaire__slug")
    )
    return [{"questionnaire": row.pop("questionnaire__slug"), **row} for row in rows]


def canonical_url(questionnaire: Questionnaire) -> str:
    url = questionnaire.canonical_url
    if url.startswith(f"{SHIPPED_BASE}/"):
        return f"{settings.FHIR_CANONICAL_BASE}{url.removeprefix(SHIPPED_BASE)}"
    return url


def fhir_resources(patient, now) -> list[dict]:
    """The Questionnaires the patient answered, then each QuestionnaireResponse: one
    query."""
    responses = list(
        QuestionnaireResponse.objects.filter(patient=patient)
        .select_related("questionnaire")
        .order_by("answered_at", "id")
    )
    questionnaires = {r.questionnaire_id: r.questionnaire for r in responses}
    subject = reference("Patient", patient.id)
    return [
        *(fhir_questionnaire(q) for q in sorted(questionnaires.values(), key=lambda q: q.slug)),
        *(fhir_response(r, subject, patient.zone) for r in responses),
    ]


def fhir_questionnaire(questionnaire: Questionnaire) -> dict:
    instrument = questionnaire.instrument
    items = []
    for item in instrument.items:
        question = {
            "linkId": f"{item.id}.value" if item.label else item.id,
            "text": item.text,
            "type": "choice" if item.options else "integer",
            "required": item.required,
        }
        if item.options:
            question["answerOption"] = [
                {"valueCoding": {"code": str(o.value), "display": o.text}} for o in item.options
            ]
        if item.label:
            items.append(
                {
                    "linkId": item.id,
                    "text": item.text,
                    "type": "group",
                    "required": item.required,
                    "item": [
                        {
                            "linkId": f"{item.id}.label",
                            "text": "The activity, in the patient's words",
                            "type": "string",
                        },
                        {**question, "text": "How well the patient can do it", "required": True},
                    ],
                }
            )
        else:
            items.append(question)
    items.append(
        {
            "linkId": SCORE_ITEM,
            "text": f"Score ({questionnaire.get_scoring_method_display()})",
            "type": "decimal",
            "readOnly": True,
        }
    )
    return resource(
        "Questionnaire",
        id=f"{questionnaire.slug}-v{questionnaire.version}",
        url=canonical_url(questionnaire),
        version=str(questionnaire.version),
        # FHIR's computable name: letters and digits, starting with a capital.
        name=questionnaire.slug.replace("-", "_").upper(),
        title=questionnaire.name,
        status="active",
        subjectType=["Patient"],
        description=questionnaire.description or None,
        item=items,
    )


def fhir_response(response: QuestionnaireResponse, subject: dict, zone) -> dict:
    questionnaire = response.questionnaire
    by_id = {item.id: item for item in questionnaire.instrument.items}
    items = []
    for answer in response.answers:
        item = by_id.get(answer["item"])
        if item is None or answer.get("value") is None:
            continue
        if item.options:
            texts = {o.value: o.text for o in item.options}
            value = {
                "valueCoding": {
                    "code": str(answer["value"]),
                    "display": texts.get(answer["value"], str(answer["value"])),
                }
            }
        else:
            value = {"valueInteger": answer["value"]}
        if item.label:
            children = []
            if answer.get("label"):
                children.append(
                    {"linkId": f"{item.id}.label", "answer": [{"valueString": answer["label"]}]}
                )
            children.append({"linkId": f"{item.id}.value", "answer": [value]})
            items.append({"linkId": item.id, "item": children})
        else:
            items.append({"linkId": item.id, "answer": [value]})
    items.append({"linkId": SCORE_ITEM, "answer": [{"valueDecimal": float(response.score)}]})
    return resource(
        "QuestionnaireResponse",
        id=str(response.id),
        questionnaire=f"{canonical_url(questionnaire)}|{response.questionnaire_version}",
        status="completed",
        subject=subject,
        # The patient's own wall clock, with its offset on that date.
        authored=response.answered_at.astimezone(zone).isoformat(),
        item=items,
    )
