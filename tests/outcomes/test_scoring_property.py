"""Any answers within range score inside the instrument's range, and the responder flag is
the definition's: improved by at least the meaningful change in the better direction (the
PGIC: answered 1 or 2)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from outcomes import scoring
from outcomes.answers import clean_answers, values_of
from outcomes.definitions import parse_instrument, score_range
from tests.outcomes.test_scoring import shipped


@st.composite
def instruments(draw):
    method = draw(st.sampled_from(["mean", "sum", "percent_of_max", "single", "psfs", "pgic"]))
    if method in ("psfs", "pgic"):
        return shipped(method)
    count = 1 if method == "single" else draw(st.integers(1, 6))
    items = []
    for n in range(count):
        low = draw(st.integers(0, 5))
        high = draw(st.integers(low + 1, low + 10))
        items.append(
            {
                "id": f"q{n}",
                "text": "?",
                "type": "integer",
                "min": low,
                "max": high,
                "required": draw(st.booleans()) or method == "single",
            }
        )
    low, high = score_range(method, tuple(parse_instrument(_wrap(items)).items))
    return parse_instrument(
        _wrap(
            items,
            {
                "method": method,
                "higher_is_better": draw(st.booleans()),
                "mcid": draw(st.sampled_from([1, 2, "1.5", 10])),
                "min": str(low),
                "max": str(high),
            },
        )
    )


def _wrap(items, rules=None):
    rules = rules or {"method": "mean", "higher_is_better": True, "mcid": 1, "min": 0, "max": 99}
    return {
        "slug": "drawn",
        "name": "Drawn",
        "version": 1,
        "canonical_url": "https://example.test/drawn",
        "items": items,
        "scoring": rules,
    }


@st.composite
def answered(draw, instrument):
    answers = []
    for item in instrument.items:
        if not item.required and draw(st.booleans()):
            continue
        if item.options:
            value = draw(st.sampled_from([o.value for o in item.options]))
        else:
            value = draw(st.integers(item.min, item.max))
        answers.append({"item": item.id, "value": value, "label": "x" if item.label else None})
    if len(answers) < instrument.scoring.min_answered:
        item = instrument.items[0]
        answers = [{"item": item.id, "value": item.max, "label": "x" if item.label else None}]
    return answers


@given(st.data())
def test_any_answers_in_range_score_inside_the_range_and_flag_responders_by_definition(data):
    instrument = data.draw(instruments())
    rules = instrument.scoring
    first = clean_answers(instrument, data.draw(answered(instrument)), baseline_labels=None)
    labels = {a["item"]: "x" for a in first if a["label"]}
    later = data.draw(answered(instrument))
    later = [a for a in later if not a["label"] or a["item"] in labels] or first

    baseline = scoring.score(instrument, values_of(first))
    follow_up = clean_answers(instrument, later, baseline_labels=labels)
    latest = scoring.score(instrument, values_of(follow_up))

    for value in (baseline, latest):
        assert rules.min <= value <= rules.max
        assert value == value.quantize(Decimal("0.1"))
    responder = scoring.is_responder(rules, baseline, latest)
    if rules.has_baseline:
        gain = latest - baseline if rules.higher_is_better else baseline - latest
        assert responder == (gain >= rules.mcid)
        assert scoring.is_worse(rules, baseline, latest) == (-gain >= rules.mcid)
        assert scoring.change(rules, baseline, latest) == latest - baseline
    else:
        assert responder == (latest in (1, 2))
        assert scoring.change(rules, baseline, latest) is None
