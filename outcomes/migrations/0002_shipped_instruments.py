"""The two instruments the product ships (free to use), loaded from outcomes/instruments/.

Each file is checked by outcomes.definitions.parse_instrument (pure, no models), as the
load command checks a clinic's own."""

import json
from pathlib import Path

from django.db import migrations

from outcomes.definitions import parse_instrument
from outcomes.models import questionnaire_fields

INSTRUMENTS = Path(__file__).resolve().parent.parent / "instruments"
SHIPPED = ("psfs", "pgic")


def load_shipped(apps, schema_editor):
    Questionnaire = apps.get_model("outcomes", "Questionnaire")
    for slug in SHIPPED:
        instrument = parse_instrument(json.loads((INSTRUMENTS / f"{slug}.json").read_text()))
        Questionnaire.objects.update_or_create(
            slug=instrument.slug, defaults=questionnaire_fields(instrument)
        )


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]

    operations = [migrations.RunPython(load_shipped, migrations.RunPython.noop)]
