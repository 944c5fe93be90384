import pytest
from django.core.management import CommandError, call_command

from clinic.models import Clinic

pytestmark = pytest.mark.django_db


def test_it_creates_a_clinic_with_its_slug_and_time_zone(capsys):
    call_command(
        "create_clinic", "Harbour Physio", "--slug", "harbour", "--timezone", "Europe/Dublin"
    )

    clinic = Clinic.objects.get(slug="harbour")
    assert clinic.name == "Harbour Physio"
    assert clinic.timezone == "Europe/Dublin"
    assert "add_clinic_user harbour" in capsys.readouterr().out


def test_it_defaults_the_time_zone_to_the_setting(settings):
    settings.TIME_ZONE = "Australia/Perth"

    call_command("create_clinic", "Harbour Physio", "--slug", "harbour")

    assert Clinic.objects.get(slug="harbour").timezone == "Australia/Perth"


def test_it_refuses_a_slug_already_taken(clinic_a):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_clinic", "Another", "--slug", clinic_a.slug)

    assert Clinic.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Harbour", "--slug", "har bour"], "--slug"),
        (["Harbour", "--slug", "harbour", "--timezone", "Mars/Olympus"], "--timezone"),
        (["Harbour", "--slug", "harbour", "--timezone", "localtime"], "--timezone"),
        (["  ", "--slug", "harbour"], "name"),
    ],
)
def test_it_refuses_bad_input_naming_what_is_wrong(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_clinic", *args)

    assert not Clinic.objects.exists()


def test_it_makes_a_clinic_that_requires_a_second_factor(capsys):
    call_command("create_clinic", "Harbour Physio", "--slug", "harbour", "--require-second-factor")

    assert Clinic.objects.get(slug="harbour").require_second_factor
    assert "second factor required" in capsys.readouterr().out


def test_a_clinic_requires_no_second_factor_unless_told():
    call_command("create_clinic", "Harbour Physio", "--slug", "harbour")

    assert not Clinic.objects.get(slug="harbour").require_second_factor
