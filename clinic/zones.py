"""The time zones a person picks from in a form, one list for every zone field of every
page (enrolment, the patient's own zone, any later one).

A form offers the canonical zones only: those tzdata's own tables list for people to
choose from (zone1970.tab, and zone.tab's one per country so that Oslo is found under its
own name), plus UTC. The 598 names the database knows include aliases kept for old
systems (`US/Eastern`, `Factory`, `GMT+0`): offered side by side they read as different
places. The API keeps accepting every name it accepts (`clinic.models.iana_zones`); a
person who holds such a name keeps it offered, so a form saved unchanged stays valid.
"""

from functools import cache
from importlib import resources

from django import forms

from clinic.models import iana_zones

UTC = "UTC"


def _rows(table: str) -> list[list[str]]:
    text = resources.files("tzdata.zoneinfo").joinpath(table).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _countries_by_zone() -> dict[str, str]:
    """Zone → the name of the country it is first listed for ("Asia/Kolkata" → "India")."""
    names = dict(_rows("iso3166.tab"))
    countries: dict[str, str] = {}
    for table in ("zone.tab", "zone1970.tab"):
        for codes, _where, zone, *_ in _rows(table):
            countries.setdefault(zone, names.get(codes.split(",")[0], ""))
    return countries


@cache
def canonical_zones() -> frozenset[str]:
    """The zones a form offers: tzdata's listed ones that this system has, and UTC."""
    return frozenset(_countries_by_zone()) & iana_zones() | {UTC}


def zone_place(zone: str) -> str:
    """What a person looks for: "America/Argentina/Buenos_Aires" → "Buenos Aires, Argentina"."""
    if zone == UTC:
        return "UTC (no daylight saving)"
    parts = [part.replace("_", " ") for part in zone.split("/")[1:]] or [zone]
    place = ", ".join(reversed(parts))
    country = _countries_by_zone().get(zone, "")
    return f"{place} ({country})" if country and country not in place else place


def zone_region(zone: str) -> str:
    return zone.split("/", 1)[0] if "/" in zone else "Other"


def zone_choices(current: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The canonical zones grouped by region (a form's <optgroup>s), each sorted by place;
    UTC first on its own. `current`, a zone someone already holds that is not among them
    (set through the API), is offered too, first, so that keeping it stays possible."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone in canonical_zones() - {UTC}:
        groups.setdefault(zone_region(zone), []).append((zone, zone_place(zone)))
    choices = [(region, sorted(groups[region], key=lambda c: c[1])) for region in sorted(groups)]
    choices.insert(0, ("Universal", [(UTC, zone_place(UTC))]))
    if current and current not in canonical_zones() and current in iana_zones():
        choices.insert(0, ("Your current zone", [(current, current.replace("_", " "))]))
    return choices


def zone_from_search(text: str, offered: set[str]) -> str | None:
    """The zone a person typed in the search box: its name (any case, spaces for
    underscores) or its place ("sydney", "Sydney (Australia)") when only one zone has it."""
    wanted = " ".join(text.replace("_", " ").split()).casefold()
    if not wanted:
        return None
    for zone in offered:
        if zone.replace("_", " ").casefold() == wanted:
            return zone
    by_place = [
        zone
        for zone in offered
        if wanted in (zone_place(zone).casefold(), zone_place(zone).split(" (")[0].casefold())
        or wanted == zone.rsplit("/", 1)[-1].replace("_", " ").casefold()
    ]
    return by_place[0] if len(by_place) == 1 else None


class ZoneSelect(forms.Select):
    """The zones as a <select> grouped by region, and beside it a search box whose
    suggestions (a <datalist>, drawn by the server) find a place by name without script.
    What is typed there, when it names one zone, wins over the list."""

    template_name = "widgets/zone_select.html"

    def value_from_datadict(self, data, files, name):
        typed = (data.get(f"{name}_find") or "").strip()
        if typed:
            offered = {value for _, group in self.choices for value, _ in group}
            # Unmatched text goes on as the value, so the field says it is not in the list.
            return zone_from_search(typed, offered) or typed
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_find" not in data


class ZoneField(forms.ChoiceField):
    """Every form's time zone field. `current`: the zone the person holds now (offered
    even when it is an alias the API accepted)."""

    widget = ZoneSelect
    default_error_messages = {
        "invalid_choice": "Choose a time zone from the list, or type a place that is in it.",
        "required": "Choose a time zone from the list.",
    }

    def __init__(self, *, current: str | None = None, **kwargs):
        super().__init__(choices=zone_choices(current), **kwargs)

    def hold(self, current: str | None) -> None:
        self.choices = zone_choices(current)
