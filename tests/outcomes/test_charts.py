"""The outcome chart's geometry, without a browser: points at their true dates, the
baseline and the band of baseline ± the meaningful change cut to the range, a shape per
point that tells better, worse and within apart without colour."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from outcomes.charts import outcome_chart
from outcomes.definitions import Scoring

PSFS = Scoring("mean", True, Decimal(2), Decimal(0), Decimal(10))
PGIC = Scoring("single", False, None, Decimal(1), Decimal(7), responder_values=(1, 2))
DAY = date(2026, 5, 1)


def series(*scores, every=14):
    return [
        {"date": DAY + timedelta(days=every * i), "score": Decimal(str(s))}
        for i, s in enumerate(scores)
    ]


def test_it_scales_scores_on_the_instruments_range():
    chart = outcome_chart(series(0, 10, 5), PSFS)

    ys = [p["y"] for p in chart.extras["points"]]
    assert ys == [chart.bottom, chart.top, (chart.top + chart.bottom) / 2]
    assert [t.label for t in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]


def test_it_places_points_at_their_true_distance_in_time():
    chart = outcome_chart(
        [
            {"date": DAY, "score": Decimal(3)},
            {"date": DAY + timedelta(days=10), "score": Decimal(4)},
            {"date": DAY + timedelta(days=40), "score": Decimal(6)},
        ],
        PSFS,
    )

    x0, x1, x2 = (p["x"] for p in chart.extras["points"])
    assert round((x1 - x0) * 4, 0) == round(x2 - x0, 0)
    assert chart.extras["line"] == " ".join(f"{p['x']},{p['y']}" for p in chart.extras["points"])


def test_it_draws_the_baseline_and_the_band_of_meaningful_change():
    chart = outcome_chart(series(4, 5), PSFS)

    band, base = chart.extras["band"], chart.extras["baseline"]
    assert (band["low"], band["high"]) == (Decimal(2), Decimal(6))
    assert base["value"] == Decimal(4)
    assert base["y"] == chart.extras["points"][0]["y"]
    # 4 units of a 10-unit range, centred on the baseline.
    assert band["h"] == round((chart.bottom - chart.top) * 0.4, 1)
    assert round(band["y"] + band["h"] / 2, 1) == base["y"]


def test_it_cuts_the_band_at_the_ends_of_the_range():
    chart = outcome_chart(series(9, 9), PSFS)

    assert (chart.extras["band"]["low"], chart.extras["band"]["high"]) == (7, 10)
    assert chart.extras["band"]["y"] == chart.top


def test_it_gives_each_point_a_shape_for_what_it_means():
    chart = outcome_chart(series(4, 6, 5, 2, 1.9), PSFS)

    assert [p["kind"] for p in chart.extras["points"]] == [
        "baseline",
        "better",
        "within",
        "worse",
        "worse",
    ]
    shapes = {p["kind"]: p["shape"] for p in chart.extras["points"]}
    assert len(set(shapes.values())) == 4
    assert all(shape.startswith("M") and shape.endswith("Z") for shape in shapes.values())


def test_an_instrument_without_a_baseline_has_no_band_and_marks_its_responder_values():
    chart = outcome_chart(series(4, 2, 6), PGIC)

    assert "band" not in chart.extras and "baseline" not in chart.extras
    assert [p["kind"] for p in chart.extras["points"]] == ["within", "better", "within"]
    assert [t.label for t in chart.y_ticks] == ["1", "2", "3", "4", "5", "6", "7"]


def test_a_single_answer_sits_in_the_middle():
    chart = outcome_chart(series(5), PSFS)

    [point] = chart.extras["points"]
    assert point["x"] == round((chart.left + chart.right) / 2, 1)
    assert [t.label for t in chart.x_ticks] == ["May 1"]


def test_date_labels_never_overlap_and_the_latest_always_has_one():
    chart = outcome_chart(series(*range(10), every=1), PSFS)

    ats = [t.at for t in chart.x_ticks]
    assert all(b - a >= 64 for a, b in pairwise(ats))
    assert chart.x_ticks[-1].label == "May 10"
    assert ats[-1] == chart.extras["points"][-1]["x"]


def test_no_answers_draw_the_axes_alone():
    chart = outcome_chart([], PSFS)

    assert chart.y_ticks and not chart.x_ticks and "points" not in chart.extras
