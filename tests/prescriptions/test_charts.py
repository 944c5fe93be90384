"""Chart geometry, computed without a browser."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from prescriptions import charts

START = date(2026, 5, 1)


def day(i, expected=2, completed=1, extra=0):
    return {
        "date": START + timedelta(days=i),
        "expected": expected,
        "completed": completed,
        "extra": extra,
        "pain_before_mean": None,
    }


def test_it_gives_one_mark_per_day_in_date_order():
    chart = charts.adherence_chart([day(i) for i in range(28)])

    assert [m["date"] for m in chart.marks] == [START + timedelta(days=i) for i in range(28)]
    xs = [m["x"] for m in chart.marks]
    assert xs == sorted(xs)
    assert chart.left <= xs[0] and xs[-1] + chart.marks[-1]["width"] <= chart.right


def test_it_draws_done_inside_expected_and_marks_a_missed_session():
    full, half, nothing = charts.adherence_chart([day(0, 2, 2), day(1, 2, 1), day(2, 0, 0)]).marks

    assert full["completed_h"] == full["expected_h"] > 0
    assert 0 < half["completed_h"] < half["expected_h"]
    assert half["missed"] and not full["missed"]
    assert nothing["expected_h"] == nothing["completed_h"] == 0
    assert "1 of 2 done" in half["label"]


def test_it_labels_axes_without_crowding_the_dates():
    chart = charts.adherence_chart([day(i) for i in range(90)])

    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3"]
    assert 5 <= len(chart.x_ticks) <= 12
    gaps = [b.at - a.at for a, b in zip(chart.x_ticks, chart.x_ticks[1:], strict=False)]
    assert min(gaps) >= 50


def check_in(i, before, after, slot="morning"):
    return SimpleNamespace(
        local_date=START + timedelta(days=i), pain_before=before, pain_after=after, slot=slot
    )


def test_it_averages_pain_per_day_and_counts_night_sessions():
    days = [START + timedelta(days=i) for i in range(3)]

    rows = charts.pain_days(
        days, [check_in(0, 6, 4), check_in(0, 7, None, "night"), check_in(2, 3, 2)]
    )

    assert rows[0] == {
        "date": days[0],
        "before": Decimal("6.5"),
        "after": Decimal("4.0"),
        "night": 1,
    }
    assert rows[1]["before"] is None and rows[1]["night"] == 0


def test_it_places_pain_on_a_0_to_10_scale_with_the_baseline_band():
    rows = charts.pain_days(
        [START, START + timedelta(days=1)], [check_in(0, 10, 0), check_in(1, 5, 5)]
    )

    chart = charts.pain_chart(rows, Decimal("5.0"), Decimal(2))

    (top, mid), (bottom, _) = (
        [(y, v) for _, y, _, v in chart.extras["before"]],
        [(y, v) for _, y, _, v in chart.extras["after"]],
    )
    assert top[0] == chart.top and bottom[0] == chart.bottom
    base = chart.extras["baseline"]
    assert base["y"] == mid[0]
    assert base["band_y"] < base["y"] < base["band_y"] + base["band_h"]


def test_it_leaves_out_the_baseline_before_there_is_one():
    chart = charts.pain_chart(charts.pain_days([START], []), None, Decimal(2))

    assert "baseline" not in chart.extras
    assert chart.extras["before_paths"] == []


def test_it_draws_a_night_bar_only_on_nights_with_a_session():
    rows = charts.pain_days(
        [START + timedelta(days=i) for i in range(5)],
        [check_in(1, 7, 5, "night"), check_in(1, 6, 5, "night"), check_in(3, 6, 5, "night")],
    )

    chart = charts.night_chart(rows)

    assert [(m["date"].day, m["count"]) for m in chart.marks] == [(2, 2), (4, 1)]


def test_it_draws_one_cross_per_missed_session_not_per_day():
    by_day = [day(0, 2, 0), day(1, 2, 1), day(2, 2, 2), day(3, 3, 0)]

    chart = charts.adherence_chart(by_day)

    assert [len(m["misses"]) for m in chart.marks] == [2, 1, 0, 3]
    assert sum(len(m["misses"]) for m in chart.marks) == sum(
        d["expected"] - d["completed"] for d in by_day
    )


def test_it_puts_each_missed_session_in_its_own_part_of_the_expected_bar():
    (mark,) = charts.adherence_chart([day(0, 3, 1)]).marks

    # "M x,y L x,y M …": the first point's y of each cross, top of the cross.
    tops = [float(cross.split(",")[1].split("L")[0]) for cross in mark["misses"]]
    assert tops == sorted(tops, reverse=True)  # stacked upwards, one above the other
    assert all(mark["expected_y"] <= top < mark["completed_y"] for top in tops)


def test_it_breaks_a_pain_line_across_days_without_data():
    rows = charts.pain_days(
        [START + timedelta(days=i) for i in range(6)],
        [check_in(0, 6, 4), check_in(1, 5, 4), check_in(3, 5, 3), check_in(4, 4, 3)],
    )

    chart = charts.pain_chart(rows, None, Decimal(2))

    assert len(chart.extras["before_paths"]) == 2
    assert [len(p.split()) for p in chart.extras["before_paths"]] == [2, 2]
    assert len(chart.extras["before"]) == 4  # every day with data keeps its dot


def test_it_draws_no_line_for_a_day_alone():
    rows = charts.pain_days(
        [START + timedelta(days=i) for i in range(3)], [check_in(0, 6, 4), check_in(2, 5, 4)]
    )

    chart = charts.pain_chart(rows, None, Decimal(2))

    assert chart.extras["before_paths"] == [] and len(chart.extras["before"]) == 2


def test_it_gives_the_start_its_year_when_a_range_crosses_one():
    dash = "\N{EN DASH}"
    assert charts.range_label(date(2025, 12, 8), date(2026, 12, 7)) == (
        f"Dec 8, 2025 {dash} Dec 7, 2026"
    )
    assert charts.range_label(date(2026, 5, 1), date(2026, 5, 28)) == f"May 1 {dash} May 28, 2026"


def test_it_writes_the_year_on_the_axis_where_it_changes():
    first = date(2025, 12, 8)
    by_day = [{**day(0), "date": first + timedelta(days=i)} for i in range(365)]

    chart = charts.adherence_chart(by_day)

    years = [(t.label, t.year) for t in chart.x_ticks if t.year]
    assert years[0] == (chart.x_ticks[0].label, "2025")
    assert [y for _, y in years] == ["2025", "2026"]
    assert chart.x_ticks.index(next(t for t in chart.x_ticks if t.year == "2026")) > 0


def test_it_writes_no_year_on_an_axis_within_one_year():
    chart = charts.adherence_chart([day(i) for i in range(28)])

    assert not any(t.year for t in chart.x_ticks)
