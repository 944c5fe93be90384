"""Who reaches what: every route under /api/v1/, for every role, with real requests.

The routes come from Django's resolver, so a new endpoint fails here until someone says who
may use it. To add one, put a row in REACH below:

    "METHOD path/{placeholder}/": Reach(
        expect(anon, clinician, staff, patient, other_patient, clinician_b[, patient_b]),
        target=lambda w: w.<object>.id,   # fills the {placeholder}, if the path has one
                                          # (a tuple fills several, in order)
        body=lambda w: {...},             # a valid body, so that allowed roles succeed
        query={...},                      # query string, if the route needs one
    ),

The path is the resolver's, after /api/v1/, with `<int:pk>` written `{pk}`. The personas:
`clinician`, `staff` and `patient` of clinic A (the `target` objects belong to `patient`),
`other_patient` of the same clinic, `clinician_b` and `patient_b` of clinic B (who fares
like `other_patient` unless a seventh status is given). Each status is exact.
Every persona's request runs in a savepoint that is rolled back, so all see the same World.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from clinic.models import Invitation, SignIn
from outcomes.models import Questionnaire
from outcomes.services import questionnaire_response_create
from patients.services import patient_enrol
from prescriptions.models import Alert, StatusChange
from tests.conftest import client_for
from tests.factories import PASSWORD, CheckInFactory, PatientFactory, PrescriptionFactory
from webhooks.models import Endpoint

PERSONAS = ("anon", "clinician", "staff", "patient", "other_patient", "clinician_b", "patient_b")
METHODS = ("get", "post", "put", "patch", "delete")


def expect(
    anon, clinician, staff, patient, other_patient, clinician_b, patient_b=None
) -> dict[str, int]:
    if patient_b is None:
        patient_b = other_patient
    statuses = (anon, clinician, staff, patient, other_patient, clinician_b, patient_b)
    return dict(zip(PERSONAS, statuses, strict=True))


@dataclass(frozen=True)
class Reach:
    statuses: dict[str, int]
    target: Callable[[SimpleNamespace], object] | None = None
    body: Callable[[SimpleNamespace], dict] | None = None
    query: dict = field(default_factory=dict)


def patient_id(w):
    return w.patient.id


def prescription_id(w):
    return w.prescription.id


def reset_link_body(w):
    user = w.patient.user
    return {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "new_password": "rock-gently-nightly",
    }


PUBLIC = expect(200, 200, 200, 200, 200, 200)
ANY_SIGNED_IN = expect(401, 200, 200, 200, 200, 200)
# A detail of clinic A's `patient`: the team reads it, the patient too, others never see it.
DETAIL_READ = expect(401, 200, 200, 200, 404, 404)
# A clinician's action on clinic A's `patient`: other roles are refused before any lookup.
CLINICIAN_ACTS = expect(401, 200, 403, 403, 403, 404)
TEAM_ONLY = expect(401, 200, 200, 403, 403, 200)
# A patient's own account (me/…): every patient reaches their own, the clinic team has no use.
OWN_ACCOUNT = expect(401, 403, 403, 200, 200, 403)


# ▼▼▼ The table: one row per method and route. ▼▼▼
REACH: dict[str, Reach] = {
    # --- sign-in (clinic) ---
    "POST auth/token/": Reach(
        PUBLIC, body=lambda w: {"username": w.clinician.username, "password": PASSWORD}
    ),
    "POST auth/logout/": Reach(expect(401, 204, 204, 204, 204, 204)),
    "POST auth/logout-all/": Reach(expect(401, 204, 204, 204, 204, 204)),
    "GET auth/tokens/": Reach(ANY_SIGNED_IN),
    # Another of `patient`'s own sign-ins: only they may end it.
    "DELETE auth/tokens/{pk}/": Reach(
        expect(401, 404, 404, 204, 404, 404), target=lambda w: w.sign_in.id
    ),
    # A second factor of one's own: setup for anyone signed in; without one set up, confirm
    # and disable are a 400 (no code can be right).
    "POST auth/2fa/setup/": Reach(ANY_SIGNED_IN),
    "POST auth/2fa/confirm/": Reach(
        expect(401, 400, 400, 400, 400, 400), body=lambda w: {"code": "123456"}
    ),
    "POST auth/2fa/disable/": Reach(
        expect(401, 400, 400, 400, 400, 400), body=lambda w: {"code": "123456"}
    ),
    # --- passwords (clinic) ---
    "POST auth/password-reset/": Reach(
        expect(202, 202, 202, 202, 202, 202), body=lambda w: {"email": w.patient.user.email}
    ),
    # The link is the key, whoever sends it (each try is rolled back: the link works for each).
    "POST auth/password-reset/confirm/": Reach(
        expect(200, 200, 200, 200, 200, 200), body=reset_link_body
    ),
    "POST auth/password/": Reach(
        ANY_SIGNED_IN,
        body=lambda w: {"old_password": PASSWORD, "new_password": "rock-gently-nightly"},
    ),
    "GET me/": Reach(ANY_SIGNED_IN),
    # --- patients ---
    "POST auth/activate/": Reach(
        PUBLIC, body=lambda w: {"code": w.activation_code, "password": "rock-gently-nightly"}
    ),
    "GET patients/": Reach(ANY_SIGNED_IN),
    "POST patients/": Reach(
        expect(401, 201, 403, 403, 403, 201),
        body=lambda w: {"first_name": "Ivy", "last_name": "Stone", "email": "ivy@example.test"},
    ),
    "GET patients/{pk}/": Reach(DETAIL_READ, target=patient_id),
    "PATCH patients/{pk}/": Reach(CLINICIAN_ACTS, target=patient_id, body=lambda w: {"phone": ""}),
    "POST patients/{pk}/activation-code/": Reach(
        expect(401, 201, 403, 403, 403, 404), target=patient_id
    ),
    "GET patients/{pk}/audit/": Reach(expect(401, 200, 200, 403, 403, 404), target=patient_id),
    "POST patients/{pk}/archive/": Reach(CLINICIAN_ACTS, target=patient_id),
    "POST patients/{pk}/restore/": Reach(CLINICIAN_ACTS, target=lambda w: w.archived.id),
    "POST patients/{pk}/invite/": Reach(
        expect(401, 202, 403, 403, 403, 404), target=lambda w: w.newcomer.id
    ),
    # --- protocols, prescriptions, check-ins ---
    "GET protocols/": Reach(ANY_SIGNED_IN),
    "GET protocols/{slug}/": Reach(ANY_SIGNED_IN, target=lambda w: "knee-rocks"),
    "GET prescriptions/": Reach(ANY_SIGNED_IN),
    "POST prescriptions/": Reach(
        # clinician_b may prescribe, but not for a patient of clinic A: 400 on `patient`.
        expect(401, 201, 403, 403, 403, 400),
        body=lambda w: {"patient": w.other_patient.id},
    ),
    "GET prescriptions/{pk}/": Reach(DETAIL_READ, target=prescription_id),
    "PATCH prescriptions/{pk}/": Reach(
        CLINICIAN_ACTS, target=prescription_id, body=lambda w: {"notes": "Go gently."}
    ),
    "POST prescriptions/{pk}/pause/": Reach(CLINICIAN_ACTS, target=prescription_id),
    "POST prescriptions/{pk}/resume/": Reach(CLINICIAN_ACTS, target=lambda w: w.paused.id),
    "POST prescriptions/{pk}/end/": Reach(CLINICIAN_ACTS, target=prescription_id),
    "GET check-ins/": Reach(ANY_SIGNED_IN),
    "POST check-ins/": Reach(
        # other_patient may check in, but not on `patient`'s prescription: 400.
        expect(401, 403, 403, 201, 400, 403),
        body=lambda w: {
            "prescription": w.prescription.id,
            "slot": "other",
            "performed_at": timezone.now().isoformat(),
            "pain_before": 3,
        },
    ),
    "GET check-ins/{pk}/": Reach(DETAIL_READ, target=lambda w: w.checkin.id),
    # --- adherence and alerts ---
    "GET patients/{pk}/adherence/": Reach(DETAIL_READ, target=patient_id),
    "GET patients/{pk}/fhir/": Reach(DETAIL_READ, target=patient_id),
    "GET adherence/": Reach(TEAM_ONLY),
    "GET alerts/": Reach(TEAM_ONLY),
    "POST alerts/{pk}/acknowledge/": Reach(CLINICIAN_ACTS, target=lambda w: w.alert.id),
    # --- reminders ---
    "GET prescriptions/{pk}/schedule/": Reach(DETAIL_READ, target=prescription_id),
    "GET prescriptions/{pk}/history/": Reach(DETAIL_READ, target=prescription_id),
    "GET reminders/": Reach(ANY_SIGNED_IN),
    "GET me/reminder-preferences/": Reach(OWN_ACCOUNT),
    "PATCH me/reminder-preferences/": Reach(OWN_ACCOUNT, body=lambda w: {"channel": "none"}),
    # --- the patient's own account ---
    "PATCH me/": Reach(OWN_ACCOUNT, body=lambda w: {"phone": "+15555550123"}),
    "GET me/calendar/": Reach(OWN_ACCOUNT),
    "POST me/calendar/reset/": Reach(OWN_ACCOUNT),
    "GET me/export/": Reach(OWN_ACCOUNT),
    # --- the clinic's team ---
    "GET team/": Reach(TEAM_ONLY),
    "POST team/": Reach(
        expect(401, 201, 403, 403, 403, 201),
        body=lambda w: {
            "email": "new.colleague@example.test",
            "first_name": "Rae",
            "last_name": "Quinn",
            "role": "staff",
        },
    ),
    "PATCH team/{pk}/": Reach(
        CLINICIAN_ACTS, target=lambda w: w.staff.id, body=lambda w: {"role": "clinician"}
    ),
    "GET team/events/": Reach(expect(401, 200, 403, 403, 403, 200)),
    "POST auth/join/": Reach(
        PUBLIC, body=lambda w: {"token": w.invitation_token, "password": "rock-gently-nightly"}
    ),
    "GET clinic/": Reach(TEAM_ONLY),
    "GET events/": Reach(TEAM_ONLY),
    "PATCH clinic/": Reach(
        expect(401, 200, 403, 403, 403, 200), body=lambda w: {"require_second_factor": False}
    ),
    # --- outcomes ---
    "GET questionnaires/": Reach(ANY_SIGNED_IN),
    "GET questionnaires/{slug}/": Reach(ANY_SIGNED_IN, target=lambda w: "psfs"),
    "GET questionnaire-responses/": Reach(ANY_SIGNED_IN),
    # Each patient answers for themselves (the response is the caller's own); the team reads.
    "POST questionnaire-responses/": Reach(
        expect(401, 403, 403, 201, 201, 403),
        body=lambda w: {"questionnaire": "pgic", "answers": [{"item": "change", "value": 2}]},
    ),
    "GET questionnaire-responses/{pk}/": Reach(DETAIL_READ, target=lambda w: w.response.id),
    "GET patients/{pk}/outcomes/": Reach(DETAIL_READ, target=patient_id),
    "GET prescriptions/{pk}/questionnaires/": Reach(DETAIL_READ, target=prescription_id),
    "PUT prescriptions/{pk}/questionnaires/": Reach(
        CLINICIAN_ACTS,
        target=prescription_id,
        body=lambda w: [{"questionnaire": "psfs", "first_day": 0, "every_days": 7}],
    ),
    "GET me/questionnaires/": Reach(OWN_ACCOUNT),
    "GET outcomes/": Reach(TEAM_ONLY),
    # --- the clinic's webhooks: its clinicians only ---
    "GET webhooks/": Reach(expect(401, 200, 403, 403, 403, 200)),
    "POST webhooks/": Reach(
        expect(401, 201, 403, 403, 403, 201),
        body=lambda w: {"url": "https://hooks.example.test/new", "events": ["alert.raised"]},
    ),
    "GET webhooks/{pk}/": Reach(CLINICIAN_ACTS, target=lambda w: w.endpoint.id),
    "PATCH webhooks/{pk}/": Reach(
        CLINICIAN_ACTS, target=lambda w: w.endpoint.id, body=lambda w: {"is_active": False}
    ),
    "DELETE webhooks/{pk}/": Reach(
        expect(401, 204, 403, 403, 403, 404), target=lambda w: w.endpoint.id
    ),
    "GET webhooks/{pk}/deliveries/": Reach(CLINICIAN_ACTS, target=lambda w: w.endpoint.id),
    "POST webhooks/{pk}/deliveries/{delivery_id}/replay/": Reach(
        expect(401, 202, 403, 403, 403, 404),
        target=lambda w: (w.endpoint.id, w.delivery.id),
    ),
    # --- documents ---
    "GET schema/": Reach(PUBLIC),
}
# ▲▲▲ ▲▲▲


def _readable(pattern: str) -> str:
    pattern = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)  # path("<int:pk>/")
    pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)  # re_path("(?P<pk>…)")
    return pattern.replace("^", "").replace("$", "")


def fill(path: str, reach: Reach, w) -> str:
    """The path with its placeholders filled by the row's target (a tuple: in order)."""
    if "{" not in path:
        return path
    target = reach.target(w)
    values = iter(target if isinstance(target, tuple) else (target,) * path.count("{"))
    return re.sub(r"\{\w+\}", lambda _: str(next(values)), path)


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield _readable(prefix + str(entry.pattern)), entry.callback


def api_routes() -> list[str]:
    """Every "METHOD path" the resolver serves under /api/v1/."""
    routes = []
    for path, callback in _walk(get_resolver().url_patterns):
        if not path.startswith("api/v1/"):
            continue
        path = path.removeprefix("api/v1/")
        actions = getattr(callback, "actions", None)  # a ViewSet's method → action map
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if actions:
            methods = list(actions)
        elif view is not None:
            allowed = [m for m in view.http_method_names if m in METHODS]
            methods = [m for m in allowed if hasattr(view, m)]
        else:
            methods = ["a function view: give it a class-based view so its methods are known"]
        routes += [f"{method.upper()} {path}" for method in methods]
    return sorted(set(routes))


@pytest.fixture
def world(clinician_a, staff_a, patient_a, other_patient, clinician_b, patient_b):
    prescription = PrescriptionFactory(patient=patient_a, clinician=clinician_a)
    paused = PrescriptionFactory(patient=patient_a, clinician=clinician_a, status="paused")
    StatusChange.objects.create(
        prescription=paused,
        status="paused",
        effective_at=timezone.now() - timedelta(days=1),
    )
    archived = PatientFactory(clinic=clinician_a.clinic, archived_at=timezone.now())
    endpoint = Endpoint.objects.create(
        clinic=clinician_a.clinic, url="https://hooks.example.test/", events=["*"], secret="whsec_"
    )
    newcomer = patient_enrol(
        clinic=clinician_a.clinic,
        enrolled_by=clinician_a,
        first_name="Noa",
        last_name="Field",
        email="noa@example.test",
    )
    return SimpleNamespace(
        endpoint=endpoint,
        # The newcomer's enrolment, for the endpoint.
        delivery=endpoint.deliveries.get(),
        clinician=clinician_a,
        staff=staff_a,
        patient=patient_a,
        other_patient=other_patient,
        clinician_b=clinician_b,
        patient_b=patient_b,
        prescription=prescription,
        paused=paused,
        archived=archived,
        checkin=CheckInFactory(prescription=prescription),
        alert=Alert.objects.create(patient=patient_a, kind="no_check_in", details={}),
        activation_code=newcomer.activation_code,
        sign_in=SignIn.objects.create(
            user=patient_a.user, kind="session", expires_at=timezone.now() + timedelta(days=1)
        ),
        newcomer=newcomer.patient,
        invitation_token=_invitation_token(clinician_a),
        response=questionnaire_response_create(
            patient=patient_a,
            questionnaire=Questionnaire.objects.get(slug="psfs"),
            answers=[{"item": "activity_1", "value": 4, "label": "Putting on socks"}],
            created_by=patient_a.user,
        ),
    )


def _invitation_token(clinician) -> str:
    token = "a-token-from-an-invitation-email"
    Invitation.objects.create(
        clinic=clinician.clinic,
        email="joiner@example.test",
        first_name="Jo",
        last_name="Iner",
        role="staff",
        token_digest=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(hours=72),
        invited_by=clinician,
    )
    return token


def _clients(w) -> dict[str, APIClient]:
    users = {
        "clinician": w.clinician,
        "staff": w.staff,
        "patient": w.patient.user,
        "other_patient": w.other_patient.user,
        "clinician_b": w.clinician_b,
        "patient_b": w.patient_b.user,
    }
    return {"anon": APIClient(), **{name: client_for(user) for name, user in users.items()}}


@pytest.mark.parametrize("route", api_routes())
@pytest.mark.django_db
def test_every_role_reaches_exactly_what_it_should(route, world):
    assert route in REACH, f"add a row for {route!r} to REACH in {__name__}"
    reach = REACH[route]
    method, path = route.split(" ", 1)
    path = fill(path, reach, world)
    url = f"/api/v1/{path}"
    body = reach.body(world) if reach.body else {}
    seen = {}
    for persona, client in _clients(world).items():
        with transaction.atomic():
            send = getattr(client, method.lower())
            if method == "GET":
                response = send(url, reach.query)
            else:
                response = send(url + _query(reach.query), body)
            seen[persona] = response.status_code
            transaction.set_rollback(True)

    assert seen == reach.statuses


def _query(params: dict) -> str:
    return f"?{urlencode(params)}" if params else ""


def test_the_table_has_no_row_for_a_route_that_is_gone():
    # A stale row would hide a renamed route; rows are for what the resolver serves.
    assert set(REACH) - set(api_routes()) == set()
