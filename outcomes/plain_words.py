"""A patient's outcomes in plain words for their own page: what they rated at the start
and now, or what they said last time. Texts only; no score is shown as a bare number."""

from decimal import Decimal

from outcomes.models import QuestionnaireResponse
from patients.models import Patient


def _activity(label: str) -> str:
    # "Putting on socks" reads "putting on socks" mid-sentence; "TV" stays "TV".
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def _number(value) -> str:
    return f"{Decimal(value).normalize():f}"


def lines_for(first: QuestionnaireResponse, last: QuestionnaireResponse) -> list[str]:
    """The sentences for one instrument, from the patient's first and latest responses."""
    questionnaire = first.questionnaire
    instrument = questionnaire.instrument
    if not questionnaire.scoring.has_baseline:
        answer = last.answers[0] if last.answers else None
        item = instrument.by_id.get(answer["item"]) if answer else None
        words = {o.value: o.text for o in item.options} if item else {}
        if answer is None or answer["value"] not in words:
            return []
        return [f"Last time you said your back was {words[answer['value']].lower()}."]
    if any(item.label for item in instrument.items):
        at_start = {a["item"]: a["value"] for a in first.answers}
        lines = []
        for answer in last.answers:
            if not answer.get("label") or answer["item"] not in at_start:
                continue
            activity = _activity(answer["label"])
            if first.pk == last.pk:
                lines.append(f"You rated {activity} {at_start[answer['item']]} at the start.")
            else:
                lines.append(
                    f"You rated {activity} {at_start[answer['item']]} at the start, "
                    f"{answer['value']} now."
                )
        return lines
    if first.pk == last.pk:
        return [f"Your {questionnaire.name} score was {_number(first.score)} at the start."]
    return [
        f"Your {questionnaire.name} score was {_number(first.score)} at the start, "
        f"{_number(last.score)} now."
    ]


def outcome_lines(patient: Patient) -> list[str]:
    """Every instrument the patient answered, by slug. One query."""
    firsts: dict[int, QuestionnaireResponse] = {}
    lasts: dict[int, QuestionnaireResponse] = {}
    for response in (
        QuestionnaireResponse.objects.filter(patient=patient)
        .select_related("questionnaire")
        .order_by("questionnaire__slug", "answered_at", "id")
    ):
        firsts.setdefault(response.questionnaire_id, response)
        lasts[response.questionnaire_id] = response
    return [line for key, first in firsts.items() for line in lines_for(first, lasts[key])]
