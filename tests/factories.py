import factory

from clinic.models import Clinic, User
from patients.models import Patient

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
