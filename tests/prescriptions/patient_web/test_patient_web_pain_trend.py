"""/my/'s pain trend: geometry from a pure function (tested here without a browser), drawn
readable without colour, with a text alternative and a table."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from prescriptions.patient_web.charts import pain_trend
from tests.conftest import signed_in
from tests.factories import CheckInFactory, PrescriptionFactory

NOW = datetime(2024, 6, 28, 16, 0, tzinfo=UTC)  # 12:00 in New York
DAYS = [date(2024, 6, 1) + timedelta(days=i) for i in range(28)]


def days_with(values: dict[int, tuple]) -> list[dict]:
    return [
        {
            "date": day,
            "before": values.get(i, (None, None))[0],
            "after": values.get(i, (None, None))[1],
        }
        for i, day in enumerate(DAYS)
    ]


def test_it_breaks_the_lines_on_days_without_data():
    chart = pain_trend(days_with({0: (6, 4), 1: (5, 3), 3: (4, 2), 4: (4, None), 5: (3, 1)}))

    # before: days 0-1, then 3-5; after: days 0-1, then 3 alone (no line), then 5 alone.
    assert len(chart["before"]["lines"]) == 2
    assert len(chart["after"]["lines"]) == 1
    assert [p["date"].day for p in chart["after"]["points"]] == [1, 2, 4, 6]
    first_run = chart["before"]["lines"][0].split()
    assert len(first_run) == 2


def test_it_places_pain_from_0_at_the_foot_to_10_at_the_top():
    chart = pain_trend(days_with({0: (Decimal("10.0"), Decimal("0.0"))}))

    [top] = chart["before"]["points"]
    [foot] = chart["after"]["points"]
    ticks = {tick["label"]: tick["y"] for tick in chart["y_ticks"]}
    assert (top["y"], foot["y"]) == (ticks["10"], ticks["0"])
    assert top["x"] == foot["x"]
    assert [label["label"] for label in chart["x_labels"]] == ["1 Jun", "8 Jun", "15 Jun", "22 Jun"]


def test_it_says_when_there_is_nothing_to_draw():
    chart = pain_trend(days_with({}))

    assert chart["any"] is False
    assert chart["before"] == {"points": [], "lines": []}


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_clock")
def test_the_page_draws_it_with_a_text_alternative_and_a_table(patient_a):
    rx = PrescriptionFactory(patient=patient_a, start_date=date(2024, 6, 1))
    for day, before, after in ((20, 7, 5), (21, 6, 4), (26, 5, 2)):
        CheckInFactory(
            prescription=rx,
            slot="morning",
            performed_at=datetime(2024, 6, day, 12, tzinfo=UTC),
            pain_before=before,
            pain_after=after,
        )

    page = signed_in(patient_a.user).get("/my/").content.decode()

    assert 'aria-labelledby="pain-trend-title pain-trend-desc"' in page
    assert "A line stops on days without a check-in" in page
    assert page.count('<polyline class="before"') == 1  # 20-21 joined; 26 alone
    assert len(re.findall(r"<title>\w{3} \d+ Jun: before", page)) == 3  # a titled dot a day
    assert "<title>Wed 26 Jun: after 2.0</title>" in page
    assert "<td>Thu 20 Jun</td><td>7.0</td><td>5.0</td>" in page
