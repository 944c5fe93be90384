"""Checks a patient's answers against an instrument, naming the item each fault is on.

Pure (no ORM): the service hands in the labels the patient's first response gave, so that a
follow-up keeps the activities named at the start (PSFS).
"""

from collections.abc import Mapping

from outcomes.definitions import Instrument, Item

LABEL_LIMIT = 100


class AnswersInvalid(ValueError):
    """The faults found, item id → messages (`answers` for the list as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _range_text(item: Item) -> str:
    if item.type == "choice":
        return "one of " + ", ".join(str(o.value) for o in item.options)
    return f"a whole number from {item.min} to {item.max}"


def _in_range(item: Item, value) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if item.type == "choice":
        return value in {o.value for o in item.options}
    return item.min <= value <= item.max


def clean_answers(
    instrument: Instrument, raw, *, baseline_labels: Mapping[str, str] | None
) -> list[dict]:
    """The answers as stored, `[{item, value, label}]` in the instrument's item order, or
    AnswersInvalid.

    `baseline_labels` is None when this response is the patient's first (the baseline),
    else the labels the baseline gave (item id → label). A follow-up may leave a label out
    (the baseline's is taken) or repeat it; it cannot rename an activity or rate one the
    baseline did not name, or its change would compare two different things.
    """
    errors: dict[str, list[str]] = {}

    def fault(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not isinstance(raw, list):
        raise AnswersInvalid({"answers": ["Give a list of answers: [{item, value, label}]."]})
    given: dict[str, dict] = {}
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("item"), str):
            fault("answers", "Each answer is an object with an `item` and a `value`.")
            continue
        item_id = entry["item"]
        item = instrument.by_id.get(item_id)
        if item is None:
            fault(item_id, f"There is no item {item_id!r} in {instrument.slug}.")
            continue
        if item_id in given:
            fault(item_id, "Answered twice.")
            continue
        unknown = set(entry) - {"item", "value", "label"}
        if unknown:
            fault(item_id, f"Unknown keys: {', '.join(sorted(unknown))}.")
        value = entry.get("value")
        if not _in_range(item, value):
            fault(item_id, f"Give {_range_text(item)}.")
        label = entry.get("label")
        if label is not None and not isinstance(label, str):
            fault(item_id, "The label is text.")
            label = None
        label = (label or "").strip()
        if label and not item.label:
            fault(item_id, "This item takes no label.")
        if len(label) > LABEL_LIMIT:
            fault(item_id, f"The label is {LABEL_LIMIT} characters at most.")
        if item.label:
            if baseline_labels is None:
                if not label:
                    fault(item_id, "Name the activity (label) in your first answers.")
            elif item_id not in baseline_labels:
                fault(item_id, "This activity was not named in your first answers.")
            else:
                named = baseline_labels[item_id]
                if label and label.casefold() != named.casefold():
                    fault(item_id, f"This activity was named {named!r} at the start.")
                label = named
        given[item_id] = {"item": item_id, "value": value, "label": label if item.label else None}

    for item in instrument.items:
        if item.required and item.id not in given and item.id not in errors:
            fault(item.id, "This item is required.")
    least = instrument.scoring.min_answered
    if not errors and len(given) < least:
        fault("answers", f"Answer at least {least} item{'s' if least > 1 else ''}.")
    if errors:
        raise AnswersInvalid(errors)
    return [given[item.id] for item in instrument.items if item.id in given]


def values_of(answers: list[dict]) -> dict[str, int]:
    return {answer["item"]: answer["value"] for answer in answers}


def labels_of(answers: list[dict]) -> dict[str, str]:
    return {answer["item"]: answer["label"] for answer in answers if answer.get("label")}
