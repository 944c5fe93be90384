"""Who reaches what on the pages: every page address that names an object (a patient, a
prescription, an alert, a webhook, a team member, a sign-in, a check-in), opened with the
id of another clinic's object, is a 404, for every method the page answers; the same
address with the caller's own object is not (so the addresses are right).

The addresses come from Django's resolver, so a new page that takes an id fails here until
someone says which object it names: put a row in PAGES below. An address keyed by a signed
token or a slug rather than an id goes in NOT_AN_ID, with the reason.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from clinic import events
from clinic.models import SignIn
from prescriptions.models import Alert
from tests.factories import (
    CheckInFactory,
    ClinicianFactory,
    PatientFactory,
    PrescriptionFactory,
    StaffFactory,
)
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

PATIENT_PAGE = ("patient", lambda t: {"pk": t.patient.id})
PRESCRIPTION_PAGE = ("prescription", lambda t: {"pk": t.prescription.id})
ENDPOINT_PAGE = ("endpoint", lambda t: {"pk": t.endpoint.id})
MEMBER_PAGE = ("team member", lambda t: {"pk": t.staff.id})
CHECK_IN_PAGE = ("check-in", lambda t: {"pk": t.checkin.id})

# URL name: (what it names, its kwargs from one clinic's things). Pages under /staff/ are
# opened by clinic A's clinician, those under /my/ by clinic A's patient.
PAGES = {
    "staff-patient": PATIENT_PAGE,
    "staff-prescribe": PATIENT_PAGE,
    "staff-archive": PATIENT_PAGE,
    "staff-patient-invite": PATIENT_PAGE,
    "staff-restore": PATIENT_PAGE,
    "staff-patient-edit": PATIENT_PAGE,
    "staff-patient-audit": PATIENT_PAGE,
    "staff-plan": PRESCRIPTION_PAGE,
    "staff-status": ("prescription", lambda t: {"pk": t.prescription.id, "change": "pause"}),
    "staff-questionnaires": PRESCRIPTION_PAGE,
    "staff-alert-acknowledge": ("alert", lambda t: {"pk": t.alert.id}),
    "staff-webhook-log": ENDPOINT_PAGE,
    "staff-webhook-toggle": ENDPOINT_PAGE,
    "staff-webhook-delete": ENDPOINT_PAGE,
    "staff-webhook-replay": (
        "delivery",
        lambda t: {"pk": t.endpoint.id, "delivery_id": t.delivery.id},
    ),
    "staff-team-role": MEMBER_PAGE,
    "staff-team-deactivate": MEMBER_PAGE,
    "staff-team-reactivate": MEMBER_PAGE,
    "staff-end-sign-in": ("sign-in", lambda t: {"pk": t.clinician_sign_in.id}),
    "my-end-sign-in": ("sign-in", lambda t: {"pk": t.patient_sign_in.id}),
    "patient-checkin-correct": CHECK_IN_PAGE,
    "patient-checkin-withdraw": CHECK_IN_PAGE,
}
NOT_AN_ID = {
    # The signed value in the address is the key, whoever opens it.
    "password-reset-set",
    "password-reset-link",
    "join-link",
    "calendar-feed",
    "checkin-link",
    "stop-reminders",
    "questionnaire-link",
    # A questionnaire's slug: the instruments are the same for every clinic.
    "patient-questionnaire",
}


def page_names() -> list[str]:
    """The names of the site's pages (not /api/, not the admin) whose address takes a
    value."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif pattern.pattern.regex.groupindex:
                yield prefix + str(pattern.pattern), pattern.name

    return sorted(
        name
        for route, name in walk(get_resolver().url_patterns)
        if not route.startswith(("^api/", "api/", "admin/"))
    )


def things_of(clinic_id: int):
    """One clinic's people and objects, one of each kind a page names."""
    clinician = ClinicianFactory(clinic_id=clinic_id)
    patient = PatientFactory(clinic_id=clinic_id)
    prescription = PrescriptionFactory(patient=patient, clinician=clinician)
    endpoint = Endpoint.objects.create(
        clinic_id=clinic_id, url="https://hooks.example.test/", events=["*"], secret="whsec_"
    )
    events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_id, patient=patient.id)
    later = timezone.now() + timedelta(days=1)
    return SimpleNamespace(
        clinician=clinician,
        patient=patient,
        prescription=prescription,
        checkin=CheckInFactory(prescription=prescription),
        alert=Alert.objects.create(patient=patient, kind="no_check_in", details={}),
        endpoint=endpoint,
        delivery=endpoint.deliveries.get(),
        staff=StaffFactory(clinic_id=clinic_id),
        clinician_sign_in=SignIn.objects.create(user=clinician, kind="session", expires_at=later),
        patient_sign_in=SignIn.objects.create(user=patient.user, kind="session", expires_at=later),
    )


@pytest.fixture
def clinics(clinic_a, clinic_b):
    return things_of(clinic_a.id), things_of(clinic_b.id)


def answers(name: str, caller, things) -> dict[str, int]:
    """What each method answers at the page `name` filled with `things`' objects, asked
    by `caller`'s clinician (the patient, under /my/); each request is rolled back, so a
    change one makes is not seen by the next."""
    url = reverse(name, kwargs=PAGES[name][1](things))
    client = Client()
    client.force_login(caller.patient.user if url.startswith("/my/") else caller.clinician)
    seen = {}
    for method in ("get", "post"):
        with transaction.atomic():
            seen[method] = getattr(client, method)(url).status_code
            transaction.set_rollback(True)
    return seen


@pytest.mark.parametrize("name", page_names())
def test_another_clinics_object_is_not_found_on_every_page(name, clinics):
    if name in NOT_AN_ID:
        return
    assert name in PAGES, f"add a row for {name!r} to PAGES in {__name__}"
    ours, theirs = clinics

    seen = answers(name, ours, theirs)

    # 405: the page does not answer that method at all, whatever the object.
    assert set(seen.values()) <= {404, 405}, seen
    assert 404 in seen.values(), seen


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_callers_own_object_is_found(name, clinics):
    ours, _ = clinics

    seen = answers(name, ours, ours)

    assert 404 not in seen.values(), seen
    assert set(seen.values()) != {405}, seen


def test_the_table_has_no_row_for_a_page_that_is_gone():
    assert set(PAGES) | NOT_AN_ID == set(page_names())
