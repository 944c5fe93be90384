from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from clinic.models import Clinic, iana_zones


class Command(BaseCommand):
    help = "Creates a clinic; its clinicians and staff are then added with add_clinic_user."

    def add_arguments(self, parser):
        parser.add_argument("name", help='the clinic\'s name, e.g. "Riverside Back Clinic"')
        parser.add_argument("--slug", required=True, help="short unique id, e.g. riverside")
        parser.add_argument(
            "--timezone",
            default=settings.TIME_ZONE,
            help="IANA zone new patients start in (default: the TIME_ZONE setting)",
        )
        parser.add_argument(
            "--require-second-factor",
            action="store_true",
            help="its clinicians and staff must set up a second factor before anything else",
        )

    def handle(
        self, *args, name: str, slug: str, timezone: str, require_second_factor: bool, **options
    ):
        name = name.strip()
        if not name:
            raise CommandError("The clinic needs a name.")
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(
                f"--slug {slug!r} may only hold letters, digits, hyphens and underscores."
            ) from None
        if timezone not in iana_zones():
            raise CommandError(f"--timezone {timezone!r} is not an IANA time zone.")
        if Clinic.objects.filter(slug=slug).exists():
            raise CommandError(f"A clinic with the slug {slug!r} already exists.")
        clinic = Clinic.objects.create(
            name=name, slug=slug, timezone=timezone, require_second_factor=require_second_factor
        )
        required = ", second factor required" if clinic.require_second_factor else ""
        self.stdout.write(
            f"Created clinic {clinic.name!r} (slug {clinic.slug}, time zone {clinic.timezone}"
            f"{required}). "
            f"Next: manage.py add_clinic_user {clinic.slug} USERNAME --role clinician"
        )
