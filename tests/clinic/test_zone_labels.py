from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template

from clinic.templatetags.zones import in_zone, in_zone_long, zone_label

INSTANT = datetime(2026, 12, 7, 11, 55, tzinfo=UTC)


def test_it_names_a_zone_by_its_city():
    assert zone_label("Australia/Sydney") == "Sydney time"
    assert zone_label("America/Argentina/Buenos_Aires") == "Buenos Aires time"
    assert zone_label(ZoneInfo("UTC")) == "UTC"


def test_one_instant_reads_in_each_zone_with_the_zone_said():
    assert in_zone(INSTANT, "Australia/Sydney") == "22:55 Sydney time"
    assert in_zone(INSTANT, ZoneInfo("America/New_York")) == "06:55 New York time"
    assert in_zone_long(INSTANT, "Asia/Kolkata") == "7 Dec 2026, 17:25 Kolkata time"


def test_templates_use_it_and_nothing_shows_for_no_time():
    template = Template("{% load zones %}[{{ at|in_zone:zone }}]")
    assert (
        template.render(Context({"at": INSTANT, "zone": "Europe/London"})) == "[11:55 London time]"
    )
    assert template.render(Context({"at": None, "zone": "Europe/London"})) == "[]"
