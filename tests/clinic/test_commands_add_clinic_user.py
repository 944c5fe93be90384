import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from clinic.models import User
from tests.live_worker import database_url_for_worker

STRONG = "rocking-knees-at-night"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["clinician", "staff"])
def test_it_adds_a_user_who_can_sign_in_with_that_role(clinic_a, anon, role):
    call_command(
        "add_clinic_user", "riverside", "sam@riverside.test", "--role", role, "--password", STRONG
    )

    response = anon.post(
        "/api/v1/auth/token/", {"username": "sam@riverside.test", "password": STRONG}
    )

    assert response.status_code == 200
    assert response.json()["role"] == role
    assert User.objects.get(username="sam@riverside.test").clinic == clinic_a


@pytest.mark.django_db
def test_it_reads_the_password_from_stdin(clinic_a):
    call_command(
        "add_clinic_user", "riverside", "desk", "--role", "staff", "--password-stdin",
        stdin=io.StringIO(STRONG + "\n"),
    )  # fmt: skip

    assert User.objects.get(username="desk").check_password(STRONG)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hilltop", "sam", "--role", "staff", "--password", STRONG], "No clinic"),
        (["riverside", "  ", "--role", "staff", "--password", STRONG], "username"),
        (["riverside", "sam", "--role", "staff", "--password", "12345"], "too weak"),
        (["riverside", "sam", "--role", "staff", "--password", ""], "empty"),
    ],
)
def test_it_refuses_bad_input_and_creates_nothing(clinic_a, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_clinic_user", *args)

    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_username_taken_in_any_letter_case(clinician_a):
    with pytest.raises(CommandError, match="already taken"):
        call_command(
            "add_clinic_user", "riverside", clinician_a.username.upper(),
            "--role", "staff", "--password", STRONG,
        )  # fmt: skip

    assert User.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_patient_role(clinic_a):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "add_clinic_user", "riverside", "sam", "--role", "patient", "--password", STRONG
        )


def run_manage(*args, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url_for_worker()}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=True)
def test_it_works_from_a_shell_and_exits_non_zero_on_bad_input(clinic_a, settings):
    # The shell hashes with the real hasher, which the tests otherwise skip for speed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    added = run_manage(
        "add_clinic_user", "riverside", "desk", "--role", "staff", "--password-stdin",
        stdin=STRONG + "\n",
    )  # fmt: skip
    refused = run_manage("add_clinic_user", "nowhere", "x", "--role", "staff", "--password", STRONG)

    assert added.returncode == 0, added.stderr
    assert User.objects.get(username="desk").check_password(STRONG)
    assert refused.returncode != 0
    assert "No clinic has the slug 'nowhere'" in refused.stderr
