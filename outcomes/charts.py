"""A patient's questionnaire scores as chart geometry (a pure function, no ORM, no clock),
drawn by outcomes/staff_patient_outcomes.html with the pain chart's conventions: the
series as a line with a shape per point, the baseline dashed, the band within which a
change is not meaningful shaded, and every point in words in a table below.

Shapes carry the meaning without colour: the baseline a filled circle, a score better by
the meaningful change or more a triangle pointing up, worse by as much a triangle pointing
down, any other an open square. Dates sit at their true distance (answers come every two
weeks or so, not daily)."""

from datetime import date
from decimal import Decimal

from outcomes import scoring
from outcomes.definitions import Scoring
from prescriptions.charts import BOTTOM, WIDTH, Chart, Tick

HEIGHT = 200
# Room each date label needs on the axis, in SVG units.
LABEL_ROOM = 64
# Points sit this far inside the axes, so the first and last shapes are drawn whole.
INSET = 16


def _y(chart: Chart, value, low: Decimal, high: Decimal) -> float:
    share = (Decimal(value) - low) / (high - low) if high > low else Decimal(0)
    return round(chart.bottom - (chart.bottom - chart.top) * float(share), 1)


def _step(span: Decimal) -> Decimal:
    """A y tick every 1, 2, 5, 10, 20 … units: at most six intervals."""
    for step in (1, 2, 5, 10, 20, 25, 50):
        if span / step <= 6:
            return Decimal(step)
    return span / 5


def point_kind(rules: Scoring, baseline, value, first: bool) -> str:
    if first and rules.has_baseline:
        return "baseline"
    # Without a baseline (PGIC), a responder's answer is one of the responder values.
    if scoring.is_responder(rules, baseline, value):
        return "better"
    if scoring.is_worse(rules, baseline, value):
        return "worse"
    return "within"


def outcome_chart(series: list[dict], rules: Scoring, height: int = HEIGHT) -> Chart:
    """`series` ([{date, score}], oldest first, as patient_outcomes gives it) on the
    instrument's whole range. extras: `points` ([{x, y, date, score, kind, shape}]), `line`
    (the polyline's points), and with a baseline `baseline` ({y, value}) and `band` ({y, h,
    w, low, high}: baseline ± the meaningful change, cut to the range)."""
    chart = Chart(width=WIDTH, height=height, bottom=height - BOTTOM)
    low, high = rules.min, rules.max
    step = _step(high - low)
    value = low
    while value <= high:
        chart.y_ticks.append(Tick(_y(chart, value, low, high), f"{value.normalize():f}"))
        value += step
    if not series:
        return chart
    first_day: date = series[0]["date"]
    days = max((series[-1]["date"] - first_day).days, 1)
    span = chart.right - chart.left - 2 * INSET

    def x_of(day: date) -> float:
        if len(series) == 1:
            return round(chart.left + (chart.right - chart.left) / 2, 1)
        return round(chart.left + INSET + span * (day - first_day).days / days, 1)

    baseline = series[0]["score"] if rules.has_baseline else None
    points = []
    for i, entry in enumerate(series):
        x, y = x_of(entry["date"]), _y(chart, entry["score"], low, high)
        kind = point_kind(rules, baseline, entry["score"], i == 0)
        points.append(
            {
                "x": x,
                "y": y,
                "date": entry["date"],
                "score": entry["score"],
                "kind": kind,
                "change": scoring.change(rules, baseline, entry["score"]),
                "shape": _shape(kind, x, y),
            }
        )
    chart.x_ticks = _date_ticks(points)
    chart.extras["points"] = points
    chart.extras["line"] = " ".join(f"{p['x']},{p['y']}" for p in points)
    if baseline is not None:
        band_low = max(Decimal(baseline) - rules.mcid, low)
        band_high = min(Decimal(baseline) + rules.mcid, high)
        top = _y(chart, band_high, low, high)
        chart.extras["baseline"] = {"y": _y(chart, baseline, low, high), "value": baseline}
        chart.extras["band"] = {
            "y": top,
            "h": round(_y(chart, band_low, low, high) - top, 1),
            "w": chart.right - chart.left,
            "low": band_low,
            "high": band_high,
        }
    return chart


def _date_ticks(points: list[dict]) -> list[Tick]:
    """A date under a point wherever it does not run into the one before; the latest
    always has its date (it replaces a label too close to it)."""
    ticks: list[Tick] = []
    for point in points:
        if not ticks or point["x"] - ticks[-1].at >= LABEL_ROOM:
            ticks.append(Tick(point["x"], f"{point['date']:%b %-d}"))
    last = points[-1]
    if ticks[-1].at != last["x"]:
        if len(ticks) > 1 and last["x"] - ticks[-1].at < LABEL_ROOM:
            ticks.pop()
        ticks.append(Tick(last["x"], f"{last['date']:%b %-d}"))
    return ticks


def _shape(kind: str, x: float, y: float) -> str:
    """The SVG path of a point's shape (the baseline's circle drawn as a path too)."""

    def n(value: float) -> str:
        return f"{round(value, 1):g}"

    r, t = 4.5, 5.5  # the circle's and square's half size; a triangle's
    if kind == "baseline":
        return f"M{n(x - r)},{n(y)}a{r},{r} 0 1,0 {2 * r:g},0a{r},{r} 0 1,0 {-2 * r:g},0Z"
    if kind == "better":
        return f"M{n(x)},{n(y - t)}L{n(x + t)},{n(y + r)}L{n(x - t)},{n(y + r)}Z"
    if kind == "worse":
        return f"M{n(x)},{n(y + t)}L{n(x + t)},{n(y - r)}L{n(x - t)},{n(y - r)}Z"
    return f"M{n(x - r)},{n(y - r)}h{2 * r:g}v{2 * r:g}h{-2 * r:g}Z"
