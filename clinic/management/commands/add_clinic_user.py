import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clinic.models import Clinic, User

ROLES = [User.Role.CLINICIAN, User.Role.STAFF]


class Command(BaseCommand):
    help = "Adds a clinician or staff member to a clinic, ready to sign in."
    # call_command(..., stdin=io.StringIO("…")) feeds --password-stdin in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the clinic's slug")
        parser.add_argument("username", help="what they sign in with (an email works well)")
        parser.add_argument("--role", required=True, choices=[str(r) for r in ROLES])
        secret = parser.add_mutually_exclusive_group(required=True)
        secret.add_argument("--password", help="the password (visible in shell history)")
        secret.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, slug, username, role, password, password_stdin, **options):
        clinic = Clinic.objects.filter(slug=slug).first()
        if clinic is None:
            raise CommandError(f"No clinic has the slug {slug!r} (see manage.py create_clinic).")
        username = username.strip()
        if not username:
            raise CommandError("The username must not be empty.")
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"The username {username!r} is already taken.")
        if password_stdin:
            password = (options.get("stdin") or sys.stdin).readline().rstrip("\r\n")
        if not password:
            raise CommandError("The password must not be empty.")

        user = User(
            username=username,
            email=username if "@" in username else "",
            first_name=options["first_name"],
            last_name=options["last_name"],
            role=role,
            clinic=clinic,
        )
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("The password is too weak: " + " ".join(error.messages)) from None
        user.set_password(password)
        user.save()
        self.stdout.write(f"Added {role} {username!r} to {clinic.name} ({clinic.slug}).")
