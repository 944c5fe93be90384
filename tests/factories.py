from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory

from clinic.models import Clinic, User
from patients.models import Patient
from prescriptions.models import CheckIn, Prescription, PrescriptionSlot, StatusChange
from prescriptions.reminders.plan import slots_reschedule
from prescriptions.schedule import checkin_local_date, local_midnight

PASSWORD = "correct-horse-battery"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Riverside Back Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    timezone = "America/New_York"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.test")
    email = factory.SelfAttribute("username")
    clinic = factory.SubFactory(ClinicFactory)
    role = User.Role.CLINICIAN
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ClinicianFactory(UserFactory):
    role = User.Role.CLINICIAN


class StaffFactory(UserFactory):
    role = User.Role.STAFF


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"patient{n}@example.test")
    timezone = "America/New_York"
    user = factory.LazyAttribute(
        lambda o: UserFactory(
            username=o.email, email=o.email, clinic=o.clinic, role=User.Role.PATIENT
        )
    )


def knee_rocks():
    from prescriptions.models import Protocol

    return Protocol.objects.get(slug="knee-rocks")


class PrescriptionFactory(factory.django.DjangoModelFactory):
    """A prescription as the services would leave it: slots, its status history, and each
    slot's `next_fire_at` worked out at the current (possibly frozen) clock, so the tick
    finds it as it would in production.

    `slots` takes [(kind, "HH:MM"), …]; the default is a morning and a bedtime slot.
    Traits: `paused=True` (paused at `paused_at`, by default 00:00 local of its second
    day), `scheduled=True` (starts in a week: nothing is expected or reminded yet).

    `created_at` (when the clinician wrote it) defaults to 00:00 local of its start date,
    or now when that is still to come: a prescription that has been running since its
    start, every slot of its first day asked for. Pass an instant to write it later in its
    first day, or after it (dated back).
    """

    class Meta:
        model = Prescription
        skip_postgeneration_save = True

    class Params:
        paused = factory.Trait(status=Prescription.Status.PAUSED)
        scheduled = factory.Trait(
            start_date=factory.LazyFunction(lambda: date.today() + timedelta(days=7))
        )

    patient = factory.SubFactory(PatientFactory)
    protocol = factory.LazyFunction(knee_rocks)
    clinician = factory.LazyAttribute(lambda o: ClinicianFactory(clinic=o.patient.clinic))
    status = Prescription.Status.ACTIVE
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=14))
    as_needed = True
    heat_prep = False

    @factory.post_generation
    def slots(obj, create, extracted, **kwargs):
        if not create:
            return
        for kind, hhmm in extracted or [("morning", "07:00"), ("bedtime", "22:00")]:
            PrescriptionSlot.objects.create(
                prescription=obj, kind=kind, time=time.fromisoformat(hhmm)
            )
        StatusChange.objects.create(
            prescription=obj,
            status=Prescription.Status.ACTIVE,
            effective_at=local_midnight(obj.start_date, obj.patient.zone),
        )

    @factory.post_generation
    def created_at(obj, create, extracted, **kwargs):
        # auto_now_add overwrites whatever is given on insert: set it afterwards.
        if create:
            obj.created_at = extracted or min(
                obj.created_at, local_midnight(obj.start_date, obj.patient.zone)
            )
            Prescription.objects.filter(id=obj.id).update(created_at=obj.created_at)

    @factory.post_generation
    def paused_at(obj, create, extracted, **kwargs):
        """The pause a paused prescription carries in its history."""
        if create and obj.status == Prescription.Status.PAUSED:
            StatusChange.objects.create(
                prescription=obj,
                status=Prescription.Status.PAUSED,
                effective_at=extracted
                or local_midnight(obj.start_date + timedelta(days=1), obj.patient.zone),
            )

    @factory.post_generation
    def schedule(obj, create, extracted, **kwargs):
        if create:
            slots_reschedule(prescription_id=obj.id)


class CheckInFactory(factory.django.DjangoModelFactory):
    """A check-in; `performed_at` must be timezone-aware, `local_date` follows the rules."""

    class Meta:
        model = CheckIn
        skip_postgeneration_save = True

    prescription = factory.SubFactory(PrescriptionFactory)
    patient = factory.SelfAttribute("prescription.patient")
    slot = "bedtime"
    performed_at = factory.LazyFunction(lambda: datetime.now(UTC))
    timezone = factory.SelfAttribute("patient.timezone")
    local_date = factory.LazyAttribute(
        lambda o: checkin_local_date(o.performed_at, ZoneInfo(o.patient.timezone), o.slot)
    )
    duration_minutes = 5
    pain_before = 5
    pain_after = 3

    @factory.post_generation
    def _counted(obj, create, extracted, **kwargs):
        # As checkin_record does: the ledger counts the check-in on its day.
        if create:
            from prescriptions.adherence.ledger import checkin_count

            checkin_count(obj)
