import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from outcomes.models import Questionnaire
from tests.outcomes.support import respond
from tests.outcomes.test_scoring import INSTRUMENTS

pytestmark = pytest.mark.django_db


def odi_like(**changes) -> dict:
    """A clinic's licensed instrument, its wording replaced by placeholders."""
    definition = {
        "slug": "odi",
        "name": "Disability index (licensed)",
        "version": 1,
        "description": "Loaded by a clinic that holds the licence.",
        "canonical_url": "https://example.test/fhir/Questionnaire/odi",
        "items": [
            {
                "id": f"section_{n}",
                "text": f"Section {n}",
                "type": "integer",
                "min": 0,
                "max": 5,
                "required": False,
            }
            for n in range(1, 11)
        ],
        "scoring": {
            "method": "percent_of_max",
            "higher_is_better": False,
            "mcid": 10,
            "min": 0,
            "max": 100,
            "min_answered": 8,
        },
    }
    return {**definition, **changes}


def load(tmp_path, definition, name="instrument.json") -> str:
    path = tmp_path / name
    path.write_text(definition if isinstance(definition, str) else json.dumps(definition))
    out = []

    class Out:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    call_command("load_questionnaire", str(path), stdout=Out())
    return "".join(out)


def test_it_loads_a_new_instrument(tmp_path):
    assert "odi version 1: created" in load(tmp_path, odi_like())

    odi = Questionnaire.objects.get(slug="odi")
    assert (odi.scoring_method, odi.higher_is_better, odi.mcid) == ("percent_of_max", False, 10)
    assert odi.min_answered == 8
    assert [item.id for item in odi.instrument.items][:2] == ["section_1", "section_2"]


def test_it_leaves_the_same_definition_as_it_is(tmp_path):
    load(tmp_path, odi_like())

    assert "unchanged" in load(tmp_path, odi_like())


def test_it_replaces_an_unused_version_with_a_higher_one(tmp_path):
    load(tmp_path, odi_like())

    assert "odi version 2: updated" in load(tmp_path, odi_like(version=2, name="ODI 2.1a"))
    assert Questionnaire.objects.get(slug="odi").name == "ODI 2.1a"


def test_it_refuses_a_changed_definition_under_the_same_version(tmp_path):
    load(tmp_path, odi_like())

    with pytest.raises(CommandError, match="needs a version above 1"):
        load(tmp_path, odi_like(name="Renamed"))


def test_it_keeps_a_version_that_scored_responses(tmp_path, patient_a):
    # The shipped PSFS has been answered: its stored scores must stay reproducible.
    respond(
        patient_a,
        "psfs",
        [{"item": "activity_1", "value": 4, "label": "socks"}],
        datetime(2026, 3, 2, 12, tzinfo=UTC),
    )
    psfs = json.loads((INSTRUMENTS / "psfs.json").read_text())

    with pytest.raises(CommandError, match="1 response\\(s\\) were scored by psfs version 1"):
        load(tmp_path, {**psfs, "version": 2, "name": "PSFS again"})
    assert Questionnaire.objects.get(slug="psfs").version == 1


@pytest.mark.parametrize(
    ("definition", "named"),
    [
        ("{not json", "not valid JSON"),
        ([], "the definition is a JSON object"),
        (odi_like(slug="Bad Slug"), "slug:"),
        (odi_like(version=0), "version:"),
        (odi_like(canonical_url="odi"), "canonical_url:"),
        (odi_like(items=[]), "items:"),
        (odi_like(extra=1), "unknown keys extra"),
        (
            odi_like(items=[{"id": "a", "text": "A", "type": "slider", "required": True}]),
            "items[0].type:",
        ),
        (
            odi_like(
                items=[
                    {
                        "id": "a",
                        "text": "A",
                        "type": "integer",
                        "min": 5,
                        "max": 5,
                        "required": True,
                    }
                ]
            ),
            "items[0].max:",
        ),
        (
            odi_like(
                items=[
                    {
                        "id": "a",
                        "text": "A",
                        "type": "choice",
                        "options": [{"value": 1}],
                        "required": True,
                    }
                ]
            ),
            "items[0].options",
        ),
        (
            odi_like(items=[{"id": "a", "text": "A", "type": "integer", "min": 0, "max": 5}]),
            "items[0].required:",
        ),
        (odi_like(scoring={**odi_like()["scoring"], "method": "median"}), "scoring.method:"),
        (odi_like(scoring={**odi_like()["scoring"], "max": 50}), "scoring: min and max"),
        (odi_like(scoring={**odi_like()["scoring"], "mcid": None}), "scoring.mcid:"),
        (odi_like(scoring={**odi_like()["scoring"], "min_answered": 11}), "scoring.min_answered"),
        (odi_like(scoring={**odi_like()["scoring"], "method": "single"}), "scoring.method:"),
    ],
)
def test_it_names_what_is_wrong_with_a_bad_file(tmp_path, definition, named):
    with pytest.raises(CommandError) as error:
        load(tmp_path, definition if isinstance(definition, str) else json.dumps(definition))

    assert named in str(error.value)
    assert not Questionnaire.objects.filter(slug="odi").exists()


def test_it_says_when_the_file_cannot_be_read(tmp_path):
    with pytest.raises(CommandError, match="cannot read it"):
        call_command("load_questionnaire", str(tmp_path / "missing.json"))
