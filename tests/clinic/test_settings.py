import os
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-for-this-test-only",
    "ALLOWED_HOSTS": "clinic.example.test",
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    "SITE_URL": "https://clinic.example.test",
}


def start_django(**overrides: str | None) -> subprocess.CompletedProcess:
    """Loads the settings in a fresh interpreter, as gunicorn or celery would at start-up."""
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "EMAIL_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update({k: v for k, v in {**PRODUCTION, **overrides}.items() if v is not None})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_starts_in_production_when_every_required_value_is_set():
    started = start_django()

    assert started.returncode == 0, started.stderr


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set"),
        ("EMAIL_BACKEND", "EMAIL_URL or EMAIL_BACKEND"),
        ("SITE_URL", "SITE_URL must be set"),
    ],
)
def test_it_refuses_to_start_in_production_without_a_required_value(missing, named):
    started = start_django(**{missing: None})

    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert named in started.stderr


def test_it_refuses_a_debug_value_it_cannot_read():
    started = start_django(DEBUG="maybe")

    assert started.returncode != 0
    assert "DEBUG must be a boolean" in started.stderr


def test_it_runs_in_development_with_nothing_set():
    started = start_django(DEBUG=None, SECRET_KEY=None, ALLOWED_HOSTS=None, EMAIL_BACKEND=None)

    assert started.returncode == 0, started.stderr


def deploy_check(**overrides: str | None) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` as an operator runs it before going live."""
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "EMAIL_URL"}
    env.update({k: v for k, v in {**PRODUCTION, **overrides}.items() if v is not None})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_passes_the_deploy_check_without_a_warning_in_production():
    checked = deploy_check()

    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout


def test_it_warns_when_production_turns_https_off_from_the_environment():
    checked = deploy_check(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")

    assert checked.returncode != 0
    assert "security.W004" in checked.stderr  # HSTS
    assert "security.W008" in checked.stderr  # SSL redirect


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("SECURE_SSL_REDIRECT", "sometimes", "SECURE_SSL_REDIRECT must be a boolean"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be an integer"),
        ("SECURE_HSTS_SECONDS", "-1", "SECURE_HSTS_SECONDS must be 0"),
        ("SECURE_HSTS_PRELOAD", "2", "SECURE_HSTS_PRELOAD must be a boolean"),
    ],
)
def test_it_refuses_to_start_with_an_https_setting_it_cannot_read(name, value, named):
    started = start_django(**{name: value})

    assert started.returncode != 0
    assert named in started.stderr


def test_it_redirects_plain_http_to_https_but_lets_the_health_probe_through(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/api/v1/protocols/").status_code == 301
    assert client.get("/healthz").status_code in (200, 503)
