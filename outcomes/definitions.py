"""An instrument's definition: its items, how they are scored, what counts as a meaningful
change. Pure data and checks (no ORM), shared by the data migration, the load command and
the scoring, so that a definition is read one way everywhere.

The JSON a clinic loads (see docs/outcomes.md):

    {"slug", "name", "version", "description", "canonical_url",
     "items": [{"id", "text", "type": "integer"|"choice", "min", "max" | "options",
                "required", "label"}],
     "scoring": {"method", "higher_is_better", "mcid", "min", "max",
                 "min_answered", "responder_values"}}
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from prescriptions.adherence import round1

METHODS = ("mean", "sum", "percent_of_max", "single")
ITEM_TYPES = ("integer", "choice")
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
ITEM_ID = re.compile(r"[A-Za-z0-9_.-]{1,50}")


class DefinitionError(ValueError):
    """What is wrong with a definition, naming where: `items[1].max: …`."""


@dataclass(frozen=True)
class Option:
    value: int
    text: str


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    type: str
    min: int
    max: int
    required: bool
    # The item takes a label the patient writes (PSFS: the activity); the first response
    # names it and later ones keep it.
    label: bool = False
    options: tuple[Option, ...] = ()

    def as_json(self) -> dict:
        data = {"id": self.id, "text": self.text, "type": self.type, "required": self.required}
        if self.type == "choice":
            data["options"] = [{"value": o.value, "text": o.text} for o in self.options]
        else:
            data |= {"min": self.min, "max": self.max}
        if self.label:
            data["label"] = True
        return data


@dataclass(frozen=True)
class Scoring:
    method: str
    higher_is_better: bool
    mcid: Decimal | None
    min: Decimal
    max: Decimal
    # Fewer answered items than this and there is no score (the response is refused).
    min_answered: int = 1
    # An instrument that rates change itself (PGIC) has no baseline: a responder is a
    # patient who answers one of these values.
    responder_values: tuple[int, ...] = ()

    @property
    def has_baseline(self) -> bool:
        return not self.responder_values


@dataclass(frozen=True)
class Instrument:
    slug: str
    name: str
    version: int
    description: str
    canonical_url: str
    items: tuple[Item, ...]
    scoring: Scoring
    by_id: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_id", {item.id: item for item in self.items})


def _fail(where: str, message: str):
    raise DefinitionError(f"{where}: {message}" if where else message)


def _text(data: dict, key: str, where: str, *, required: bool = True, limit: int = 0) -> str:
    value = data.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        _fail(f"{where}{key}", "give a non-empty text")
    if limit and len(value) > limit:
        _fail(f"{where}{key}", f"at most {limit} characters")
    return value.strip()


def _integer(value, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(where, "give a whole number")
    return value


def _number(value, where: str, *, null: bool = False) -> Decimal | None:
    if value is None and null:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        _fail(where, "give a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        _fail(where, "give a number")
    if not number.is_finite():
        _fail(where, "give a number")
    return number


def _item(data, index: int) -> Item:
    where = f"items[{index}]."
    if not isinstance(data, dict):
        _fail(f"items[{index}]", "each item is an object")
    unknown = set(data) - {"id", "text", "type", "min", "max", "options", "required", "label"}
    if unknown:
        _fail(f"items[{index}]", f"unknown keys {', '.join(sorted(unknown))}")
    item_id = data.get("id")
    if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
        _fail(f"{where}id", "give an id of letters, digits, _ . or - (50 at most)")
    text = _text(data, "text", where, limit=500)
    kind = data.get("type")
    if kind not in ITEM_TYPES:
        _fail(f"{where}type", f"one of {', '.join(ITEM_TYPES)}")
    required = data.get("required")
    if not isinstance(required, bool):
        _fail(f"{where}required", "true or false")
    label = data.get("label", False)
    if not isinstance(label, bool):
        _fail(f"{where}label", "true or false")
    options: tuple[Option, ...] = ()
    if kind == "choice":
        raw = data.get("options")
        if not isinstance(raw, list) or len(raw) < 2:
            _fail(f"{where}options", "a choice item lists two options or more")
        for n, option in enumerate(raw):
            if not isinstance(option, dict) or set(option) != {"value", "text"}:
                _fail(f"{where}options[{n}]", "each option is {value, text}")
            value = _integer(option["value"], f"{where}options[{n}].value")
            options += (Option(value, _text(option, "text", f"{where}options[{n}].", limit=200)),)
        values = [o.value for o in options]
        if len(set(values)) != len(values):
            _fail(f"{where}options", "two options share a value")
        low, high = min(values), max(values)
        if "min" in data or "max" in data:
            _fail(where.rstrip("."), "a choice item takes options, not min and max")
    else:
        if "options" in data:
            _fail(where.rstrip("."), "an integer item takes min and max, not options")
        low = _integer(data.get("min"), f"{where}min")
        high = _integer(data.get("max"), f"{where}max")
        if low >= high:
            _fail(f"{where}max", "must be greater than min")
    return Item(item_id, text, kind, low, high, required, label, options)


def score_range(method: str, items: tuple[Item, ...]) -> tuple[Decimal, Decimal]:
    """The lowest and highest score the items can give under the method, rounded as the
    scores are (rounding keeps order, so no score falls outside)."""
    lows, highs = [Decimal(i.min) for i in items], [Decimal(i.max) for i in items]
    if method == "sum" and all(i.required for i in items):
        low, high = sum(lows), sum(highs)
    elif method == "sum":
        # A skipped item counts as the mean of the answered ones: with items of unequal
        # ranges, the answered ones alone may scale past the sum of every item's range.
        low, high = len(items) * min(lows), len(items) * max(highs)
    elif method == "percent_of_max":
        # Each answered item's share of its maximum: the lowest is the smallest such share.
        low, high = min(Decimal(i.min) / i.max * 100 for i in items), Decimal(100)
    else:
        low, high = min(lows), max(highs)
    return round1(low, 1), round1(high, 1)


def _scoring(data, items: tuple[Item, ...]) -> Scoring:
    if not isinstance(data, dict):
        _fail("scoring", "an object with method, higher_is_better, mcid, min and max")
    allowed = {"method", "higher_is_better", "mcid", "min", "max"}
    allowed |= {"min_answered", "responder_values"}
    unknown = set(data) - allowed
    if unknown:
        _fail("scoring", f"unknown keys {', '.join(sorted(unknown))}")
    method = data.get("method")
    if method not in METHODS:
        _fail("scoring.method", f"one of {', '.join(METHODS)}")
    higher = data.get("higher_is_better")
    if not isinstance(higher, bool):
        _fail("scoring.higher_is_better", "true or false")
    mcid = _number(data.get("mcid"), "scoring.mcid", null=True)
    if mcid is not None and mcid <= 0:
        _fail("scoring.mcid", "must be greater than 0")
    low = _number(data.get("min"), "scoring.min")
    high = _number(data.get("max"), "scoring.max")
    if method == "single" and len(items) != 1:
        _fail("scoring.method", "single scores an instrument of exactly one item")
    if method == "percent_of_max" and any(i.max <= 0 for i in items):
        _fail("scoring.method", "percent_of_max needs every item's max above 0")
    can_low, can_high = score_range(method, items)
    if low > can_low or high < can_high:
        _fail(
            "scoring",
            f"min and max ({low}, {high}) must hold every score the items can give "
            f"({can_low.normalize()} to {can_high.normalize()} by {method})",
        )
    min_answered = _integer(data.get("min_answered", 1), "scoring.min_answered")
    if not 1 <= min_answered <= len(items):
        _fail("scoring.min_answered", f"between 1 and the number of items ({len(items)})")
    raw = data.get("responder_values", [])
    if not isinstance(raw, list):
        _fail("scoring.responder_values", "a list of values")
    responder_values = tuple(
        _integer(v, f"scoring.responder_values[{n}]") for n, v in enumerate(raw)
    )
    if responder_values:
        if method != "single":
            _fail("scoring.responder_values", "only for a single-item instrument")
        if not all(items[0].min <= v <= items[0].max for v in responder_values):
            _fail("scoring.responder_values", "each must be a value the item takes")
    elif mcid is None:
        _fail("scoring.mcid", "give the meaningful change (or responder_values)")
    return Scoring(method, higher, mcid, low, high, min_answered, responder_values)


def parse_instrument(data) -> Instrument:
    """The instrument a JSON definition describes; DefinitionError names what is wrong."""
    if not isinstance(data, dict):
        _fail("", "the definition is a JSON object")
    unknown = set(data) - {
        "slug", "name", "version", "description", "canonical_url", "items", "scoring"
    }  # fmt: skip
    if unknown:
        _fail("", f"unknown keys {', '.join(sorted(unknown))}")
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        _fail("slug", "lower-case letters, digits, _ or - (50 at most)")
    name = _text(data, "name", "", limit=200)
    version = _integer(data.get("version"), "version")
    if version < 1:
        _fail("version", "1 or more")
    description = _text(data, "description", "", required=False, limit=2000)
    canonical_url = _text(data, "canonical_url", "", limit=200)
    if not canonical_url.startswith(("https://", "http://", "urn:")):
        _fail("canonical_url", "an http(s) URL or a URN")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        _fail("items", "a list of one item or more")
    items = tuple(_item(raw, n) for n, raw in enumerate(raw_items))
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        _fail("items", "two items share an id")
    scoring = _scoring(data.get("scoring"), items)
    return Instrument(slug, name, version, description, canonical_url, items, scoring)
