"""The two instruments the product ships (free to use), loaded from outcomes/instruments/.

Each file is checked by outcomes.definitions.parse_instrument (pure, no models), as the
load command checks a clinic's own. The columns are written out here rather than taken from
outcomes.models, so that this migration keeps working on the schema of its own time."""

import json
from pathlib import Path

from django.db import migrations

from outcomes.definitions import parse_instrument

INSTRUMENTS = Path(__file__).resolve().parent.parent / "instruments"
SHIPPED = ("psfs", "pgic")


def load_shipped(apps, schema_editor):
    Questionnaire = apps.get_model("outcomes", "Questionnaire")
    for slug in SHIPPED:
        instrument = parse_instrument(json.loads((INSTRUMENTS / f"{slug}.json").read_text()))
        scoring = instrument.scoring
        Questionnaire.objects.update_or_create(
            slug=instrument.slug,
            defaults={
                "name": instrument.name,
                "version": instrument.version,
                "description": instrument.description,
                "items": [item.as_json() for item in instrument.items],
                "scoring_method": scoring.method,
                "higher_is_better": scoring.higher_is_better,
                "mcid": scoring.mcid,
                "score_min": scoring.min,
                "score_max": scoring.max,
                "min_answered": scoring.min_answered,
                "responder_values": list(scoring.responder_values),
                "canonical_url": instrument.canonical_url,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]

    operations = [migrations.RunPython(load_shipped, migrations.RunPython.noop)]
