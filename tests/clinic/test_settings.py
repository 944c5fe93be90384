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
