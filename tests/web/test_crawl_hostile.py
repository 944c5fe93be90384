"""Every page a clinician, a member of staff, a patient, a check-in link or an
administrator can reach, and every form on them, answered with hostile values: never a
500, never Django's own page. Run it on PostgreSQL too (DATABASE_URL), which refuses what
SQLite stores (NUL in text, out-of-range integers). CRAWL_FULL=1 sends every hostile value
of tests/web/crawler.py, not only one of each kind (several minutes)."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from prescriptions.models import Alert, Reminder
from prescriptions.reminders import links
from tests.factories import CheckInFactory, PrescriptionFactory
from tests.web.crawler import Crawl

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(patient_a, other_patient, patient_b, clinician_a, staff_a):
    """Clinic A with records on every page; clinic B's ids are the hostile ones."""
    ours = PrescriptionFactory(patient=patient_a, clinician=clinician_a)
    PrescriptionFactory(patient=other_patient, clinician=clinician_a, paused=True)
    CheckInFactory(prescription=ours, notes="knee fine")
    Alert.objects.create(patient=patient_a, prescription=ours, kind="red_flag")
    reminder = Reminder.objects.create(
        prescription=ours,
        slot="morning",
        local_date=timezone.localdate(),
        fire_at=timezone.now() - timedelta(minutes=5),
        channel="email",
        status="failed",
    )
    theirs = PrescriptionFactory(patient=patient_b)
    alert_b = Alert.objects.create(patient=patient_b, prescription=theirs, kind="no_check_in")
    return {
        "reminder": reminder,
        "calendar": calendar_path(patient_a),
        "other_ids": [patient_b.pk, theirs.pk, alert_b.pk],
    }


def calendar_path(patient) -> str:
    return f"/cal/{links.calendar_token(patient.pk, patient.calendar_feed_version)}.ics"


def crawl(client, start, world, **options) -> Crawl:
    full = os.environ.get("CRAWL_FULL") == "1"
    return Crawl(client, start, world["other_ids"], full=full, **options).run()


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_clean(result: Crawl, least_pages: int):
    assert len(result.pages) >= least_pages, sorted(result.pages)
    assert result.findings == [], "\n".join(result.findings)


def test_it_never_fails_a_clinician_on_any_page_or_form(world, clinician_a):
    result = crawl(signed_in(clinician_a), ["/", "/staff/"], world)

    assert_clean(result, least_pages=8)


def test_it_never_fails_staff_on_any_page_or_form(world, staff_a):
    assert_clean(crawl(signed_in(staff_a), ["/staff/"], world), least_pages=4)


def test_it_never_fails_a_patient_on_their_pages_or_forms(world, patient_a):
    assert_clean(crawl(signed_in(patient_a.user), ["/my/"], world), least_pages=2)


def test_it_never_fails_anyone_on_the_signed_links_and_sign_in_pages(world):
    reminder_id = world["reminder"].id
    start = [
        f"/c/{links.checkin_token(reminder_id)}/",
        f"/stop/{links.stop_token(reminder_id)}/",
        world["calendar"],
        "/",
        "/healthz",
        "/staff/login/",
        "/my/login/",
        "/admin/login/",
    ]
    result = crawl(Client(raise_request_exception=False), start, world)

    assert_clean(result, least_pages=6)


def test_it_never_fails_an_administrator_in_the_admin(world):
    root = get_user_model().objects.create_superuser("root", "root@example.test", "pw")

    result = crawl(signed_in(root), ["/admin/"], world, max_pages=25)

    assert_clean(result, least_pages=10)
