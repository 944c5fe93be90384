"""A demo clinic with a few weeks of believable history, built through the services.

Every write goes through the same services the API uses, so the demo data obeys the
product's rules (local dates, alerts, advice). Running it again adds nothing new: people
that exist are kept as they are.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clinic.models import Clinic, User
from patients.models import Patient, ReminderPreference
from patients.services import activation_code_issue, patient_activate, patient_enrol
from prescriptions import alerts, extensions
from prescriptions.adherence import ledger_rewrite
from prescriptions.checkins import checkin_record
from prescriptions.models import EPOCH, CheckIn, Prescription, Protocol, Reminder
from prescriptions.schedule import local_instant, local_midnight, local_today
from prescriptions.services import prescription_create

CLINIC = {"name": "Riverside Back Clinic", "slug": "riverside", "timezone": "America/New_York"}
# Demo only: fixed, published passwords so anyone can try the product locally.
CLINICIAN = ("dr.rivera@riverside.example", "demo-clinician-pass", "Dana", "Rivera")
STAFF = ("frontdesk@riverside.example", "demo-staff-pass", "Sam", "Ortiz")
PATIENT_PASSWORD = "demo-patient-pass"
PRESCRIBED_DAYS_AGO = 21


@dataclass(frozen=True)
class Story:
    first_name: str
    last_name: str
    email: str
    timezone: str
    slots: tuple[tuple[str, str], ...] = ()
    heat_prep: bool = False
    # Chance of doing a session, in the first and in the last week of the three.
    keen_early: float = 0.9
    keen_late: float = 0.9
    pain_early: float = 5.0
    pain_late: float = 5.0
    # Sessions that made the back hurt more, on these days ago (ease-off advice).
    sore_days: tuple[int, ...] = ()
    # A session when back pain woke them, at 03:00 local on these days ago.
    night_days: tuple[int, ...] = ()
    note: str = ""
    # How reminders reach them, and the last days ago whose morning reminder failed.
    channel: str = "email"
    phone: str = ""
    failed_days: tuple[int, ...] = ()


REMINDER_DAYS = 7
SMS_REFUSED = "The SMS provider refused the number: not a mobile line"


STORIES = [
    Story(
        "Maya", "Chen", "maya.chen@example.com", "America/New_York",
        slots=(("morning", "07:00"), ("bedtime", "22:00")), heat_prep=True,
        keen_early=0.95, keen_late=0.9, pain_early=6.5, pain_late=3.0, night_days=(15,),
        note="Night pain for two months; sleeps better since starting.",
    ),
    Story(
        "Oliver", "Grant", "oliver.grant@example.com", "Europe/London",
        slots=(("morning", "06:45"), ("bedtime", "22:30")),
        keen_early=0.8, keen_late=0.7, pain_early=5.0, pain_late=4.0, night_days=(9, 3),
        note="Desk job; often forgets the morning session on weekdays.",
        channel="sms", phone="+44 20 7946 0000", failed_days=(3, 2, 1),
    ),
    Story(
        "Isla", "Brown", "isla.brown@example.com", "Australia/Sydney",
        slots=(("morning", "07:30"), ("bedtime", "21:30")),
        keen_early=0.9, keen_late=0.15, pain_early=7.0, pain_late=6.0,
        note="Started well, then travelled for work.",
    ),
    Story(
        "Arjun", "Mehta", "arjun.mehta@example.com", "Asia/Kolkata",
        slots=(("morning", "06:15"), ("bedtime", "22:00")),
        keen_early=0.85, keen_late=0.85, pain_early=3.5, pain_late=7.0, sore_days=(4, 2),
        note="Pain creeping up; may be pushing the movement too far.",
    ),
]  # fmt: skip
# Enrolled but not yet activated: shows the activation step.
PENDING = Story("Lucas", "Silva", "lucas.silva@example.com", "America/Sao_Paulo")


class Command(BaseCommand):
    help = "Creates the demo clinic, its people and three weeks of check-ins (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="where the API runs, for the hints"
        )

    def handle(self, *args, url: str, **options):
        clinic, _ = Clinic.objects.get_or_create(slug=CLINIC["slug"], defaults=CLINIC)
        clinician = self.clinic_user(clinic, User.Role.CLINICIAN, *CLINICIAN)
        self.clinic_user(clinic, User.Role.STAFF, *STAFF)
        protocol = Protocol.objects.get(slug="knee-rocks")
        now = timezone.now()

        created = []
        for story in STORIES:
            if not Patient.objects.filter(email=story.email).exists():
                with transaction.atomic():
                    self.live_through(story, clinic, clinician, protocol, now)
                created.append(story.email)
        pending_code = self.pending_patient(clinic, clinician)
        if created:
            # What other apps add to the new patients' history (outcomes: questionnaires).
            new = {p.email: p for p in Patient.objects.filter(email__in=created)}
            for line in extensions.seed_demo(new, now):
                self.stdout.write(line)
            raised = alerts.evaluate_alerts(now=now)
            self.stdout.write(f"Seeded {len(created)} demo patients; {len(raised)} alerts raised.")
        else:
            self.stdout.write("The demo data was already there; nothing added.")
        self.print_sign_ins(url, pending_code)

    def clinic_user(self, clinic, role, username, password, first_name, last_name) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                email=username,
                password=password,
                first_name=first_name,
                last_name=last_name,
                role=role,
                clinic=clinic,
            )
        return user

    def live_through(self, story: Story, clinic, clinician, protocol, now: datetime) -> None:
        """Enrols the patient three weeks ago and replays their sessions up to now."""
        enrolment = patient_enrol(
            clinic=clinic,
            enrolled_by=clinician,
            first_name=story.first_name,
            last_name=story.last_name,
            email=story.email,
            phone=story.phone,
            timezone_name=story.timezone,
        )
        ReminderPreference.objects.filter(patient=enrolment.patient).update(channel=story.channel)
        patient_activate(code=enrolment.activation_code, password=PATIENT_PASSWORD)
        zone = enrolment.patient.zone
        today = local_today(zone, now)
        start = today - timedelta(days=PRESCRIBED_DAYS_AGO)
        prescription = prescription_create(
            patient=enrolment.patient,
            clinician=clinician,
            protocol=protocol,
            start_date=start,
            slots=[{"kind": k, "time": time.fromisoformat(t)} for k, t in story.slots],
            heat_prep=story.heat_prep,
            notes=story.note,
        )
        # As if written the day it began three weeks ago, not today: every slot of that
        # first day asked for (docs/definitions.md, Expected session).
        prescription.created_at = local_midnight(start, zone)
        Prescription.objects.filter(id=prescription.id).update(created_at=prescription.created_at)
        ledger_rewrite(prescription_id=prescription.id, since=EPOCH, now=now)
        # Seeded by the email: the same story every time it is told.
        rng = random.Random(story.email)
        for offset in range(PRESCRIBED_DAYS_AGO + 1):
            day = start + timedelta(days=offset)
            days_ago = (today - day).days
            progress = offset / PRESCRIBED_DAYS_AGO
            keen = story.keen_early + (story.keen_late - story.keen_early) * progress
            pain = story.pain_early + (story.pain_late - story.pain_early) * progress
            sessions = [
                (kind, hhmm)
                for kind, hhmm in story.slots
                if rng.random() < keen or (kind == "bedtime" and days_ago in story.sore_days)
            ]
            if days_ago in story.night_days:
                sessions.append(("night", "03:00"))
            for kind, hhmm in sessions:
                # A night session wakes them after midnight, on the next local date.
                on = day + timedelta(days=1) if kind == "night" else day
                performed_at = local_instant(on, time.fromisoformat(hhmm), zone) + timedelta(
                    minutes=rng.randint(0, 35)
                )
                if performed_at > now:
                    continue
                before = clamp(round(pain + rng.choice((-1, 0, 0, 1))))
                sore = days_ago in story.sore_days and kind == "bedtime"
                after = clamp(before + 2 if sore else before - rng.choice((1, 1, 2, 2, 3)))
                checkin = checkin_record(
                    prescription=prescription,
                    slot=kind,
                    performed_at=performed_at,
                    pain_before=before,
                    pain_after=after,
                    duration_minutes=rng.randint(3, 8),
                    heat_used=story.heat_prep and kind == "bedtime",
                    notes="Woke with back pain; settled after rocking." if kind == "night" else "",
                )
                # Recorded as the session was done, not at seeding time: only the last
                # day's check-ins can still be corrected, as for a real patient.
                CheckIn.objects.filter(id=checkin.id).update(created_at=performed_at)
        self.reminder_history(story, prescription, today, zone, now)

    def reminder_history(self, story: Story, prescription, today: date, zone, now) -> None:
        """The past week of reminders as the worker would have recorded them (the demo has
        no worker running back then): sent, or failed on the days the story says."""
        reminders = []
        for days_ago in range(REMINDER_DAYS, 0, -1):
            day = today - timedelta(days=days_ago)
            for kind, hhmm in story.slots:
                fire_at = local_instant(day, time.fromisoformat(hhmm), zone)
                failed = kind == "morning" and days_ago in story.failed_days
                reminders.append(
                    Reminder(
                        prescription=prescription,
                        slot=kind,
                        local_date=day,
                        fire_at=fire_at,
                        channel=story.channel,
                        status=Reminder.Status.FAILED if failed else Reminder.Status.SENT,
                        sent_at=None if failed else fire_at + timedelta(seconds=4),
                        reason=SMS_REFUSED if failed else "",
                        attempts=3 if failed else 1,
                    )
                )
        Reminder.objects.bulk_create(reminders)

    def pending_patient(self, clinic, clinician) -> str | None:
        """A fresh one-time code for the patient who has not activated yet (None once they have)."""
        patient = Patient.objects.select_related("user").filter(email=PENDING.email).first()
        if patient is None:
            return patient_enrol(
                clinic=clinic,
                enrolled_by=clinician,
                first_name=PENDING.first_name,
                last_name=PENDING.last_name,
                email=PENDING.email,
                timezone_name=PENDING.timezone,
            ).activation_code
        if patient.user.is_active:
            return None
        code, _ = activation_code_issue(patient=patient)
        return code

    def print_sign_ins(self, url: str, pending_code: str | None) -> None:
        rows = [
            ("clinician", CLINICIAN[0], CLINICIAN[1], CLINIC["timezone"]),
            ("staff", STAFF[0], STAFF[1], CLINIC["timezone"]),
            *[("patient", s.email, PATIENT_PASSWORD, s.timezone) for s in STORIES],
        ]
        lines = [
            "",
            f"{CLINIC['name']} (slug {CLINIC['slug']}) - DEMO sign-ins, fixed passwords, "
            "for trying the product locally only:",
            *[
                f"  {role:<10} {user:<30} {password:<22} {zone}"
                for role, user, password, zone in rows
            ],
        ]
        if pending_code:
            lines.append(
                f"  {'pending':<10} {PENDING.email:<30} activation code {pending_code} "
                "(not yet activated: POST /api/v1/auth/activate/)"
            )
        lines += [
            "",
            "Sign in (the answer's token goes in 'Authorization: Bearer <token>'):",
            f"  curl -s -X POST {url}/api/v1/auth/token/ -H 'Content-Type: application/json' "
            f"""-d '{{"username": "{CLINICIAN[0]}", "password": "{CLINICIAN[1]}"}}'""",
            f"Staff web view: {url}/staff/ (clinician or staff sign-in)",
            "",
        ]
        self.stdout.write("\n".join(lines))


def clamp(pain: int) -> int:
    return max(0, min(10, pain))
