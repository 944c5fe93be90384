"""Scores and what they mean, as pure functions of an instrument and numbers (no ORM).

A skipped item (one not `required`) changes the score by method:
- mean: the mean of the answered items;
- sum: the sum of the answered items scaled up to the full item count (answered sum x
  items / answered), so a skipped item counts as the mean of the others;
- percent_of_max: the answered items' sum as a percentage of the answered items' maximum;
- single: nothing to skip (its one item is required).
Every score is rounded to one decimal, halves up, by the helper the product's other means
use (prescriptions.adherence.round1), so 4.25 reads 4.3 here as it does there.
"""

from collections.abc import Mapping
from decimal import Decimal

from outcomes.definitions import Instrument, Scoring
from prescriptions.adherence import round1


def score(instrument: Instrument, values: Mapping[str, int]) -> Decimal:
    """The score of the answered items' values (item id → value), already checked to be in
    range and enough in number (outcomes.answers)."""
    answered = [item for item in instrument.items if item.id in values]
    if not answered:
        raise ValueError("no item answered")
    total = Decimal(sum(values[item.id] for item in answered))
    method = instrument.scoring.method
    if method == "mean":
        return round1(total, len(answered))
    if method == "sum":
        return round1(total * len(instrument.items), len(answered))
    if method == "percent_of_max":
        return round1(total * 100, sum(item.max for item in answered))
    if method == "single":
        return round1(total, 1)
    raise ValueError(method)  # definitions refuse any other method


def change(scoring: Scoring, baseline: Decimal | None, latest: Decimal | None) -> Decimal | None:
    """latest - baseline, one decimal; None without a baseline (or for an instrument that
    has none, such as the PGIC)."""
    if not scoring.has_baseline or baseline is None or latest is None:
        return None
    return round1(Decimal(latest) - Decimal(baseline), 1)


def _improvement(scoring: Scoring, baseline: Decimal, latest: Decimal) -> Decimal:
    """How far latest is better than baseline (negative: worse), in the better direction."""
    difference = Decimal(latest) - Decimal(baseline)
    return difference if scoring.higher_is_better else -difference


def is_responder(scoring: Scoring, baseline: Decimal | None, latest: Decimal | None) -> bool:
    """Improved by at least the meaningful change in the better direction; for an
    instrument that rates change itself, answered one of its responder values."""
    if latest is None:
        return False
    if not scoring.has_baseline:
        return int(latest) == latest and int(latest) in scoring.responder_values
    if baseline is None:
        return False
    return _improvement(scoring, baseline, latest) >= scoring.mcid


def is_worse(scoring: Scoring, baseline: Decimal | None, latest: Decimal | None) -> bool:
    """Worse than baseline by at least the meaningful change (the `outcome_worsening`
    alert). Never for an instrument without a baseline."""
    if not scoring.has_baseline or baseline is None or latest is None:
        return False
    return -_improvement(scoring, baseline, latest) >= scoring.mcid
