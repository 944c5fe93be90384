"""Times on every page say their zone: `{{ instant|in_zone:zone }}` reads "22:55 Sydney
time", `{{ instant|in_zone_long:zone }}` "7 Dec 2026, 22:55 Sydney time". A clinic's lists
give the clinic's zone, a patient's page the patient's, and a check-in the zone it was done
in (see docs/definitions.md).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils.dateformat import format as date_format

register = template.Library()


def zone_label(zone: ZoneInfo | str) -> str:
    """ "Australia/Sydney" → "Sydney time"; UTC stays "UTC"."""
    name = str(zone)
    if name in ("UTC", "Etc/UTC"):
        return "UTC"
    return f"{name.rsplit('/', 1)[-1].replace('_', ' ')} time"


def _zone(zone) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone))


@register.filter
def zone_name(zone) -> str:
    return zone_label(zone)


@register.filter
def in_zone(instant: datetime | None, zone) -> str:
    if instant is None:
        return ""
    local = instant.astimezone(_zone(zone))
    return f"{date_format(local, 'H:i')} {zone_label(zone)}"


@register.filter
def in_zone_long(instant: datetime | None, zone) -> str:
    if instant is None:
        return ""
    local = instant.astimezone(_zone(zone))
    return f"{date_format(local, 'j M Y, H:i')} {zone_label(zone)}"
