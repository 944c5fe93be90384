"""Charts as data: pure functions turn a patient's report into geometry (bars, points,
ticks) in SVG user units; templates in staff/includes/ draw it. No ORM, no clock."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

WIDTH = 720
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 22, 30


@dataclass
class Tick:
    at: float
    label: str
    # On date axes, the year under the first label and wherever the year changes.
    year: str = ""


@dataclass
class Chart:
    width: int
    height: int
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = 0
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    marks: list[dict] = field(default_factory=list)
    extras: dict = field(default_factory=dict)


def _frame(height: int, days: list[date], y_max: float, y_step: float) -> Chart:
    chart = Chart(width=WIDTH, height=height, bottom=height - BOTTOM)
    chart.extras["slot"] = (chart.right - chart.left) / max(len(days), 1)
    every = _label_every(len(days))
    spans_years = bool(days) and days[0].year != days[-1].year
    shown_year = None
    for i, day in enumerate(days):
        if i % every == 0:
            # A range within one year needs no year on its axis (the page's heading has it).
            year = str(day.year) if spans_years and day.year != shown_year else ""
            shown_year = day.year
            chart.x_ticks.append(Tick(_x_center(chart, i), day.strftime("%b %-d"), year))
    value = 0.0
    while value <= y_max + 1e-9:
        chart.y_ticks.append(Tick(_y(chart, value, y_max), f"{value:g}"))
        value += y_step
    return chart


def _label_every(n: int) -> int:
    """A date label every few days, so that labels never overlap (~60 units each)."""
    room = (WIDTH - LEFT - RIGHT) / 60
    every = 1
    while n / every > room:
        every += 1 if every < 7 else 7
    return every


def _x_center(chart: Chart, i: int) -> float:
    return round(chart.left + chart.extras["slot"] * (i + 0.5), 1)


def range_label(start: date, end: date) -> str:
    """ "Dec 8 to Dec 7, 2026" (with an en dash), and the start's year too when the years
    differ."""
    first = f"{start:%b %-d}" if start.year == end.year else f"{start:%b %-d, %Y}"
    return f"{first} \N{EN DASH} {end:%b %-d, %Y}"


def _y(chart: Chart, value: float, y_max: float) -> float:
    span = chart.bottom - chart.top
    return round(chart.bottom - span * (value / y_max if y_max else 0), 1)


def adherence_chart(by_day: list[dict], height: int = 200) -> Chart:
    """Per day: an outlined bar for the sessions expected, a hatched bar for those done
    inside it, and a small white bar beside it for extra sessions. One mark per day, with a
    cross for each session missed, in that session's part of the expected bar."""
    days = [d["date"] for d in by_day]
    y_max = max([3, *(max(d["expected"], d["completed"] + d["extra"]) for d in by_day)])
    chart = _frame(height, days, y_max, 1)
    slot = chart.extras["slot"]
    bar = max(min(slot * 0.62, 22), 2)
    for i, d in enumerate(by_day):
        x = round(_x_center(chart, i) - bar / 2, 1)
        expected_top = _y(chart, d["expected"], y_max)
        done_top = _y(chart, d["completed"], y_max)
        extra_top = _y(chart, d["extra"], y_max)
        chart.marks.append(
            {
                "date": d["date"],
                "x": x,
                "width": round(bar, 1),
                "expected_y": expected_top,
                "expected_h": round(chart.bottom - expected_top, 1),
                "completed_y": done_top,
                "completed_h": round(chart.bottom - done_top, 1),
                "extra_x": round(x + bar * 0.7, 1),
                "extra_w": round(max(bar * 0.3, 1.5), 1),
                "extra_y": extra_top,
                "extra_h": round(chart.bottom - extra_top, 1),
                "label": f"{d['date']:%b %-d}: {d['completed']} of {d['expected']} done"
                + (f", {d['extra']} extra" if d["extra"] else ""),
                "missed": d["expected"] > d["completed"],
                "misses": _misses(chart, _x_center(chart, i), bar, d, y_max),
                "center": _x_center(chart, i),
            }
        )
    return chart


def _misses(chart: Chart, center: float, bar: float, d: dict, y_max: float) -> list[str]:
    """One cross (an SVG path) per missed session: session k of the day's expected ones
    fills the bar from k to k + 1, and the missed ones are those above the done."""
    unit = (chart.bottom - chart.top) / y_max if y_max else 0
    r = round(max(min(bar / 2, unit / 3, 4), 0.8), 1)
    crosses = []
    for k in range(d["completed"], d["expected"]):
        y = _y(chart, k + 0.5, y_max)
        left, right = round(center - r, 1), round(center + r, 1)
        crosses.append(f"M{left},{round(y - r, 1)}L{right},{round(y + r, 1)}")
        crosses[-1] += f"M{left},{round(y + r, 1)}L{right},{round(y - r, 1)}"
    return crosses


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"))


def pain_days(days: list[date], check_ins) -> list[dict]:
    """Mean pain before and after the sessions of each day, and the night sessions."""
    by_day = {day: {"before": [], "after": [], "night": 0} for day in days}
    for c in check_ins:
        bucket = by_day.get(c.local_date)
        if bucket is None:
            continue
        bucket["before"].append(c.pain_before)
        if c.pain_after is not None:
            bucket["after"].append(c.pain_after)
        bucket["night"] += c.slot == "night"
    return [
        {
            "date": day,
            "before": _mean(by_day[day]["before"]),
            "after": _mean(by_day[day]["after"]),
            "night": by_day[day]["night"],
        }
        for day in days
    ]


def pain_chart(days: list[dict], baseline, band: Decimal, height: int = 220) -> Chart:
    """Pain 0 to 10: before (solid line, filled dots), after (dashed line, open squares), the
    first-week baseline (dashed) and the band within which a change is not meaningful."""
    chart = _frame(height, [d["date"] for d in days], 10, 2)
    for series in ("before", "after"):
        points = [
            (_x_center(chart, i), _y(chart, float(d[series]), 10), d["date"], d[series])
            for i, d in enumerate(days)
            if d[series] is not None
        ]
        chart.extras[series] = points
        chart.extras[f"{series}_paths"] = _runs(days, series, chart)
    if baseline is not None:
        low = max(float(baseline - band), 0)
        high = min(float(baseline + band), 10)
        chart.extras["baseline"] = {
            "y": _y(chart, float(baseline), 10),
            "band_y": _y(chart, high, 10),
            "band_h": round(_y(chart, low, 10) - _y(chart, high, 10), 1),
            "band_w": chart.right - chart.left,
            "value": baseline,
        }
    return chart


def _runs(days: list[dict], series: str, chart: Chart) -> list[str]:
    """The line of a series as one polyline per run of consecutive days with a value: a
    day without data breaks the line, rather than a line implying values across it."""
    runs, run = [], []
    for i, d in enumerate(days):
        if d[series] is None:
            run = []
            continue
        if not run:
            runs.append(run)
        run.append(f"{_x_center(chart, i)},{_y(chart, float(d[series]), 10)}")
    # A lone day is its dot alone: a polyline of one point draws nothing.
    return [" ".join(run) for run in runs if len(run) > 1]


def night_chart(days: list[dict], height: int = 120) -> Chart:
    y_max = max([2, *(d["night"] for d in days)])
    chart = _frame(height, [d["date"] for d in days], y_max, 1 if y_max <= 4 else 2)
    slot = chart.extras["slot"]
    bar = max(min(slot * 0.62, 22), 2)
    for i, d in enumerate(days):
        if d["night"]:
            top = _y(chart, d["night"], y_max)
            chart.marks.append(
                {
                    "date": d["date"],
                    "x": round(_x_center(chart, i) - bar / 2, 1),
                    "width": round(bar, 1),
                    "y": top,
                    "h": round(chart.bottom - top, 1),
                    "count": d["night"],
                    "center": _x_center(chart, i),
                }
            )
    return chart
