import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from outcomes import services
from outcomes.definitions import DefinitionError, parse_instrument


class Command(BaseCommand):
    help = (
        "Loads an outcome questionnaire from a JSON file (see docs/outcomes.md). A slug "
        "already loaded is replaced by a higher version only while no response was scored "
        "by the one stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"{file}: cannot read it ({error.strerror}).") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{file}: not valid JSON ({error}).") from None
        try:
            instrument = parse_instrument(data)
        except DefinitionError as error:
            raise CommandError(f"{file}: {error}") from None
        try:
            questionnaire, outcome = services.questionnaire_load(instrument=instrument)
        except services.DefinitionConflict as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{questionnaire.slug} version {questionnaire.version}: {outcome}.")
