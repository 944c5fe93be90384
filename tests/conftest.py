import os

import pytest
import time_machine
from django.test import Client
from hypothesis import settings as hypothesis_settings
from knox.models import get_token_model
from rest_framework.test import APIClient

from config import celery_app
from tests.browser import chromium_browser, page, phone_page  # noqa: F401  (fixtures)
from tests.factories import (
    PASSWORD,
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    StaffFactory,
)
from tests.live_worker import (  # noqa: F401  (fixtures)
    _live_worker_process,
    _migration_data_in_transactional_tests,
    live_worker,
)

# In CI the property tests draw the same examples on every run, so a failure there is
# reproducible rather than luck; elsewhere each run draws new ones and the search goes on.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    # Real hashing costs ~0.3 s per user; tests need the behaviour, not the cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    # Links in reminders point at the test client's host.
    settings.SITE_URL = "http://testserver"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in-process unless a test starts a real worker (marker celery_worker)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def frozen_clock(request):
    """The clock stands still at the test module's `NOW` (`time_machine`); a test that asks
    for the fixture by name can move it: `frozen_clock.move_to(instant)`. A module opts in
    with `pytestmark = pytest.mark.usefixtures("frozen_clock")`."""
    with time_machine.travel(request.module.NOW, tick=False) as traveller:
        yield traveller


def signed_in(user) -> Client:
    """A browser's client with the user's session, as the web pages see a signed-in user."""
    client = Client()
    client.force_login(user)
    return client


def web_signed_in(user, password: str = PASSWORD) -> Client:
    """A browser's client signed in through the sign-in form of the user's area, as a person
    would: the session is listed and limited like a real one (unlike `signed_in`)."""
    client = Client()
    login, field = ("/my/login/", "email") if user.is_patient else ("/staff/login/", "username")
    response = client.post(login, {field: user.username, "password": password})
    assert response.status_code == 302, response.content
    return client


def client_for(user) -> APIClient:
    """An API client signed in with a real Bearer token, as a mobile app would be."""
    client = APIClient()
    _, token = get_token_model().objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- Personas: one clinic with its people, and another clinic that must stay out --------


@pytest.fixture
def clinic_a(db):
    return ClinicFactory(name="Riverside Back Clinic", slug="riverside")


@pytest.fixture
def clinic_b(db):
    return ClinicFactory(name="Hilltop Spine Centre", slug="hilltop")


@pytest.fixture
def clinician_a(clinic_a):
    return ClinicianFactory(clinic=clinic_a, username="dr.a@example.test")


@pytest.fixture
def clinician_b(clinic_b):
    return ClinicianFactory(clinic=clinic_b, username="dr.b@example.test")


@pytest.fixture
def staff_a(clinic_a):
    return StaffFactory(clinic=clinic_a, username="desk.a@example.test")


@pytest.fixture
def patient_a(clinic_a):
    return PatientFactory(clinic=clinic_a, first_name="Ada", last_name="Moss")


@pytest.fixture
def other_patient(clinic_a):
    return PatientFactory(clinic=clinic_a, first_name="Ben", last_name="Lowe")


@pytest.fixture
def patient_b(clinic_b):
    return PatientFactory(clinic=clinic_b, first_name="Cora", last_name="Hale")


@pytest.fixture
def anon():
    return APIClient()
