"""Every page of every role passes axe-core with no serious or critical violation: the
clinic's pages (clinician and staff), the patient's, the pages before sign-in, the 404.

axe-core's script comes from the axe-playwright-python package (its bundled axe.min.js),
run in the page through Playwright: nothing is fetched from the network.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from clinic import events
from clinic.reset_links import reset_link
from prescriptions.models import Alert, Reminder
from prescriptions.reminders import links
from prescriptions.schedule import checkin_local_date
from tests.browser import sign_in
from tests.factories import PASSWORD, CheckInFactory, PatientFactory, PrescriptionFactory
from tests.outcomes.support import pgic, psfs, respond
from webhooks.models import Attempt, Delivery
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it stands."""
    results = Axe().run(page).response
    return [v for v in results["violations"] if v["impact"] in SERIOUS]


def described(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
    )


def sweep(page, paths: list[str]) -> None:
    """Opens each path and fails with every serious or critical violation of them all."""
    problems = []
    for path in paths:
        page.goto(path)
        found = axe_violations(page)
        if found:
            problems.append(f"{path}:\n{described(found)}")
    assert not problems, "\n".join(problems)


def assert_accessible(page, path: str) -> None:
    sweep(page, [path])


@pytest.fixture
def clinic_day(clinic_a, clinician_a):
    """A patient three weeks into a prescription, with check-ins, an open alert and a
    reminder that could not be delivered: every card and chart of the pages is drawn."""
    now = timezone.now()
    patient = PatientFactory(clinic=clinic_a, first_name="Isla", last_name="Brown")
    rx = PrescriptionFactory(patient=patient, start_date=(now - timedelta(days=21)).date())
    for day in range(1, 20, 2):
        at = now - timedelta(days=day)
        CheckInFactory(prescription=rx, slot="morning", performed_at=at, pain_after=3)
    Alert.objects.create(patient=patient, kind="no_check_in", details={"message": "Quiet."})
    Reminder.objects.create(
        prescription=rx,
        slot="morning",
        local_date=(now - timedelta(days=1)).date(),
        fire_at=now - timedelta(days=1),
        channel="sms",
        status="failed",
        reason="No phone number",
    )
    # The outcomes card: a PSFS baseline and a follow-up worse by the meaningful change
    # (its alert too), and a PGIC answer.
    respond(patient, "psfs", psfs(6, 5), now - timedelta(days=20))
    respond(patient, "psfs", psfs(3, 3), now - timedelta(days=6))
    respond(patient, "pgic", pgic(5), now - timedelta(days=6))
    return patient


def clinic_paths(patient) -> list[str]:
    return [
        "/staff/",
        "/staff/?q=nobody",
        "/staff/?from=2026-05-10&to=2026-05-01",
        f"/staff/patients/{patient.id}/",
        "/staff/deliveries/",
        "/staff/team/",
        "/staff/account/",
        "/staff/nothing-here/",
    ]


@pytest.fixture
def endpoint(clinic_a, clinician_a):
    """A clinic webhook with a delivery tried twice: refused, then taken."""
    endpoint = endpoint_create(
        clinic_id=clinic_a.id, url="https://records.example/hooks", events=["*"], by=clinician_a
    )
    event = events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=1)
    delivery = Delivery.objects.get(endpoint=endpoint, event=event)
    Attempt.objects.create(delivery=delivery, status_code=500, duration_ms=80, error="")
    Attempt.objects.create(delivery=delivery, status_code=200, duration_ms=40)
    return endpoint


def test_the_clinicians_pages_pass_axe(page, clinician_a, clinic_day, endpoint):
    sign_in(page, clinician_a.username)

    sweep(
        page,
        [
            *clinic_paths(clinic_day),
            "/staff/patients/new/",
            f"/staff/patients/{clinic_day.id}/prescribe/",
            f"/staff/prescriptions/{clinic_day.prescriptions.get().id}/questionnaires/",
            "/staff/webhooks/",
            f"/staff/webhooks/{endpoint.id}/",
        ],
    )


def test_the_staff_pages_pass_axe(page, staff_a, clinic_day):
    sign_in(page, staff_a.username)

    sweep(page, clinic_paths(clinic_day))


def test_the_clinic_pages_pass_axe_on_a_phone(phone_page, clinician_a, clinic_day):
    sign_in(phone_page, clinician_a.username)

    sweep(
        phone_page,
        [
            "/staff/",
            f"/staff/patients/{clinic_day.id}/",
            "/staff/patients/new/",
            "/staff/webhooks/",
        ],
    )


def test_the_patients_pages_pass_axe(page, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    CheckInFactory(prescription=rx, performed_at=timezone.now() - timedelta(days=1))
    page.goto("/my/login/")
    page.get_by_label("Email").fill(patient_a.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    sweep(page, ["/my/", "/my/account/", "/my/nothing-here/"])


def test_the_check_in_link_page_passes_axe(phone_page, patient_a):
    now = timezone.now()
    rx = PrescriptionFactory(patient=patient_a, start_date=(now - timedelta(days=3)).date())
    reminder = Reminder.objects.create(
        prescription=rx,
        slot="morning",
        local_date=checkin_local_date(now, patient_a.zone, "morning"),
        fire_at=now - timedelta(minutes=1),
        channel="email",
        status="sent",
    )

    assert_accessible(phone_page, f"/c/{links.checkin_token(reminder.id)}/")
    assert_accessible(phone_page, "/c/not-a-token/")


def test_the_pages_before_sign_in_pass_axe(page, clinician_a):
    sweep(
        page,
        [
            "/staff/login/",
            "/my/login/",
            "/my/activate/",
            "/staff/password-reset/",
            "/my/password-reset/",
            "/nothing-here/",
        ],
    )
    link = urlsplit(reset_link(clinician_a)).path
    page.goto(link)  # the link's page keeps the token and moves on to the form
    assert re.search(r"/reset/[^/]+/", page.url)
    assert_accessible(page, urlsplit(page.url).path)


def test_a_sign_in_with_its_errors_passes_axe(page, clinician_a):
    page.goto("/staff/login/")
    page.get_by_label("Username").fill(clinician_a.username)
    page.get_by_label("Password").fill("wrong")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    assert not axe_violations(page), described(axe_violations(page))
