"""The patient's pain trend as data: a pure function turns each day's mean pain before and
after the sessions into SVG geometry (no ORM, no clock); patient/_pain_trend.html draws it.

As on the clinic's page: before is a solid line with filled dots, after a dashed line with
open squares (read without colour), and a line never crosses a day without data: each run
of days with a value is a line of its own."""

from datetime import date

DAY = 17  # the sessions chart's column: the two charts line up day for day
LEFT, TOP, PLOT, BOTTOM = 22, 8, 100, 20
SERIES = ("before", "after")


def _runs(points: list[tuple[int, float] | None]) -> list[list[tuple[int, float]]]:
    """Consecutive days with a value, each run on its own."""
    runs, run = [], []
    for point in points:
        if point is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(point)
    if run:
        runs.append(run)
    return runs


def pain_trend(days: list[dict]) -> dict:
    """`days`: [{date, before, after}] in date order, a mean (or None) for each. Answers
    the chart's size, its y ticks (0, 5, 10), a date label each week, and per series its
    points (x, y, date, value) and lines (one `points` string per run of days)."""

    def x(index: int) -> float:
        return LEFT + index * DAY + DAY / 2

    def y(value: float) -> float:
        return round(TOP + PLOT * (10 - value) / 10, 1)

    series = {}
    for name in SERIES:
        values = [(i, float(d[name])) if d[name] is not None else None for i, d in enumerate(days)]
        series[name] = {
            "points": [
                {"x": x(i), "y": y(v), "date": days[i]["date"], "value": days[i][name]}
                for i, v in filter(None, values)
            ],
            "lines": [
                " ".join(f"{x(i)},{y(v)}" for i, v in run) for run in _runs(values) if len(run) > 1
            ],
        }
    right = LEFT + len(days) * DAY
    return {
        "width": right + 4,
        "height": TOP + PLOT + BOTTOM,
        "left": LEFT,
        "right": right,
        "y_ticks": [{"y": y(v), "label": str(v)} for v in (0, 5, 10)],
        "x_labels": [
            {"x": x(i), "label": _day_label(d["date"])} for i, d in enumerate(days) if i % 7 == 0
        ],
        "label_y": TOP + PLOT + 14,
        "before": series["before"],
        "after": series["after"],
        "any": any(series[name]["points"] for name in SERIES),
    }


def _day_label(day: date) -> str:
    return day.strftime("%-d %b")
