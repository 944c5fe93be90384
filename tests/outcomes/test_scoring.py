"""Scores worked out by hand, for each method and each shipped instrument."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from outcomes import scoring
from outcomes.answers import AnswersInvalid, clean_answers
from outcomes.definitions import parse_instrument

INSTRUMENTS = Path(__file__).resolve().parents[2] / "outcomes" / "instruments"


def shipped(slug: str):
    return parse_instrument(json.loads((INSTRUMENTS / f"{slug}.json").read_text()))


def five_items(method: str, low=0, high=4, **scoring_extra):
    """An ODI-like instrument: five items of 0 to 4, the last two may be skipped."""
    top = {"sum": high * 5, "percent_of_max": 100, "mean": high}[method]
    return parse_instrument(
        {
            "slug": "five",
            "name": "Five",
            "version": 1,
            "canonical_url": "https://example.test/five",
            "items": [
                {
                    "id": f"q{n}",
                    "text": f"Question {n}",
                    "type": "integer",
                    "min": low,
                    "max": high,
                    "required": n <= 3,
                }
                for n in range(1, 6)
            ],
            "scoring": {
                "method": method,
                "higher_is_better": False,
                "mcid": 2,
                "min": 0,
                "max": top,
                **scoring_extra,
            },
        }
    )


def D(text: str) -> Decimal:
    return Decimal(text)


def test_it_scores_the_psfs_as_the_mean_of_the_answered_activities():
    psfs = shipped("psfs")

    assert scoring.score(psfs, {"activity_1": 3, "activity_2": 4, "activity_3": 6}) == D("4.3")
    assert scoring.score(psfs, {"activity_1": 3, "activity_2": 6}) == D("4.5")
    # Skipped items do not count as zero: one activity named, its rating is the score.
    assert scoring.score(psfs, {"activity_2": 7}) == D("7.0")


def test_it_rounds_halves_up_like_the_adherence_means():
    psfs = shipped("psfs")

    # 2 + 3 + 3 = 8 / 3 = 2.666… → 2.7; and a mean of x.x5 rounds up, never to even.
    assert scoring.score(psfs, {"activity_1": 2, "activity_2": 3, "activity_3": 3}) == D("2.7")
    assert scoring.change(psfs.scoring, D("2.7"), D("4.0")) == D("1.3")


def test_it_scores_the_pgic_as_the_value_answered():
    pgic = shipped("pgic")

    assert [scoring.score(pgic, {"change": v}) for v in (1, 4, 7)] == [D("1"), D("4"), D("7")]


def test_it_sums_and_scales_a_skipped_item_up_to_the_full_count():
    five = five_items("sum")

    assert scoring.score(five, {f"q{n}": 2 for n in range(1, 6)}) == D("10.0")
    # 1 + 2 + 3 + 4 = 10 over four items, scaled to five: 12.5.
    assert scoring.score(five, {"q1": 1, "q2": 2, "q3": 3, "q4": 4}) == D("12.5")
    # Three answered, 1 + 1 + 2 = 4 → 4 x 5 / 3 = 6.666… → 6.7.
    assert scoring.score(five, {"q1": 1, "q2": 1, "q3": 2}) == D("6.7")


def test_it_takes_percent_of_max_over_the_answered_items_only():
    five = five_items("percent_of_max")

    assert scoring.score(five, {f"q{n}": 4 for n in range(1, 6)}) == D("100.0")
    # 1 + 2 + 3 = 6 of 12 (three items of 4): 50 %, the skipped two counting for nothing.
    assert scoring.score(five, {"q1": 1, "q2": 2, "q3": 3}) == D("50.0")
    # 1 + 1 + 1 + 2 = 5 of 16 = 31.25 → 31.3.
    assert scoring.score(five, {"q1": 1, "q2": 1, "q3": 1, "q4": 2}) == D("31.3")


def test_it_means_a_generic_instrument_over_the_answered_items():
    five = five_items("mean")

    assert scoring.score(five, {"q1": 1, "q2": 2, "q3": 4}) == D("2.3")


def test_it_calls_a_psfs_gain_of_two_a_responder_and_a_loss_of_two_worse():
    rules = shipped("psfs").scoring

    assert scoring.change(rules, D("3.0"), D("5.0")) == D("2.0")
    assert scoring.is_responder(rules, D("3.0"), D("5.0"))
    assert not scoring.is_responder(rules, D("3.0"), D("4.9"))
    assert not scoring.is_worse(rules, D("3.0"), D("1.1"))
    assert scoring.is_worse(rules, D("3.0"), D("1.0"))
    assert not scoring.is_responder(rules, None, D("9.0"))


def test_it_reads_the_better_direction_of_an_instrument_where_lower_is_better():
    rules = five_items("sum").scoring  # lower is better, mcid 2

    assert scoring.is_responder(rules, D("10"), D("8"))
    assert not scoring.is_responder(rules, D("10"), D("12"))
    assert scoring.is_worse(rules, D("10"), D("12"))
    assert scoring.change(rules, D("10"), D("8")) == D("-2.0")


def test_it_calls_a_pgic_of_one_or_two_a_responder_without_a_baseline():
    rules = shipped("pgic").scoring

    assert [scoring.is_responder(rules, None, D(v)) for v in range(1, 8)] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert scoring.change(rules, D("4"), D("1")) is None
    assert not scoring.is_worse(rules, D("1"), D("7"))


def test_it_keeps_a_follow_up_to_the_activities_named_at_the_start():
    psfs = shipped("psfs")
    named = {"activity_1": "Putting on socks", "activity_2": "Stairs"}

    follow_up = clean_answers(
        psfs,
        [{"item": "activity_1", "value": 6}, {"item": "activity_2", "value": 5, "label": "stairs"}],
        baseline_labels=named,
    )

    assert [a["label"] for a in follow_up] == ["Putting on socks", "Stairs"]
    with pytest.raises(AnswersInvalid) as renamed:
        clean_answers(
            psfs, [{"item": "activity_1", "value": 6, "label": "Golf"}], baseline_labels=named
        )
    assert list(renamed.value.errors) == ["activity_1"]
    with pytest.raises(AnswersInvalid) as unnamed:
        clean_answers(psfs, [{"item": "activity_3", "value": 6}], baseline_labels=named)
    assert list(unnamed.value.errors) == ["activity_3"]


@pytest.mark.parametrize(
    ("answers", "item"),
    [
        ([{"item": "activity_1", "value": 11, "label": "socks"}], "activity_1"),
        ([{"item": "activity_1", "value": "5", "label": "socks"}], "activity_1"),
        ([{"item": "activity_1", "value": True, "label": "socks"}], "activity_1"),
        ([{"item": "activity_9", "value": 5, "label": "socks"}], "activity_9"),
        ([{"item": "activity_1", "value": 5}], "activity_1"),  # a baseline names it
        ([], "answers"),  # at least one activity
        ("socks", "answers"),
        ([{"value": 5}], "answers"),
    ],
)
def test_it_names_the_item_a_fault_is_on(answers, item):
    with pytest.raises(AnswersInvalid) as fault:
        clean_answers(shipped("psfs"), answers, baseline_labels=None)

    assert item in fault.value.errors


def test_it_wants_the_required_item_and_no_label_where_none_is_taken():
    pgic = shipped("pgic")

    with pytest.raises(AnswersInvalid) as missing:
        clean_answers(pgic, [], baseline_labels=None)
    with pytest.raises(AnswersInvalid) as labelled:
        clean_answers(pgic, [{"item": "change", "value": 2, "label": "x"}], baseline_labels=None)
    with pytest.raises(AnswersInvalid) as off_the_list:
        clean_answers(pgic, [{"item": "change", "value": 8}], baseline_labels=None)

    assert list(missing.value.errors) == ["change"]
    assert list(labelled.value.errors) == ["change"]
    assert list(off_the_list.value.errors) == ["change"]
