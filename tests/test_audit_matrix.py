"""Every read and write of a patient's data leaves one audit entry per patient, no more.

Walks the same routes, personas and requests as tests/test_reach_matrix.py (so a new route
is checked here as soon as it has its row there) and compares, for each request, the
patients whose data the answer carries with the patients the audit trail names.
"""

import json
import re

import pytest
from django.db import transaction

from clinic.models import AuditEntry
from prescriptions.models import Prescription, Reminder
from tests.test_reach_matrix import (
    REACH,
    _clients,
    _query,
    api_routes,
    fill,
    world,  # noqa: F401  (a fixture)
)

WRITE_ACTIONS = {"create", "update", "archive"}


@pytest.fixture
def audited_world(world):  # noqa: F811
    # A reminder, so that the reminders list carries some of `patient`'s data too.
    world.reminder = Reminder.objects.create(
        prescription=world.prescription,
        slot="morning",
        local_date=world.prescription.start_date,
        fire_at=world.checkin.performed_at,
        channel="email",
    )
    return world


def patients_carried(path: str, body, caller) -> set[int]:
    """The patients whose data an answer carries: every `patient` and every prescription's
    patient in it, the records themselves on `patients/`, the patient of `patients/{id}/…`
    and of `prescriptions/{id}/…`, and the caller's own record for a patient's `me/…`."""
    found: set[int] = set()
    prescriptions: set[int] = set()

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, int) and not isinstance(value, bool):
            if key == "patient":
                found.add(value)
            elif key == "prescription":
                prescriptions.add(value)

    walk(body)
    if match := re.match(r"prescriptions/(\d+)/", path):
        prescriptions.add(int(match[1]))
    found |= set(
        Prescription.objects.filter(id__in=prescriptions).values_list("patient_id", flat=True)
    )
    if re.fullmatch(r"patients/(\d+/)?", path):
        records = body.get("results", [body]) if isinstance(body, dict) else []
        found |= {record["id"] for record in records if "id" in record}
    if match := re.match(r"patients/(\d+)/", path):
        found.add(int(match[1]))
    if path.startswith("me/") and caller.is_patient:
        found.add(caller.patient.id)
    return found


def answer_of(response):
    if "json" in response.get("Content-Type", "") and response.content:
        return json.loads(response.content)
    return None  # the OpenAPI document, an empty 204


@pytest.mark.django_db
def test_each_answer_with_a_patients_data_leaves_one_entry_per_patient(audited_world):
    w = audited_world
    checked, with_data, missing, extra = 0, 0, [], []
    for route in api_routes():
        reach = REACH[route]
        method, path = route.split(" ", 1)
        path = fill(path, reach, w)
        url = f"/api/v1/{path}"
        body = reach.body(w) if reach.body else {}
        for persona, client in _clients(w).items():
            if persona == "anon":
                continue
            with transaction.atomic():
                before = AuditEntry.objects.count()
                send = getattr(client, method.lower())
                if method == "GET":
                    response = send(url, reach.query)
                else:
                    response = send(url + _query(reach.query), body)
                entries = list(AuditEntry.objects.order_by("id")[before:])
                caller = response.wsgi_request.user
                carried = set()
                if response.status_code < 400:
                    carried = patients_carried(path, answer_of(response), caller)
                transaction.set_rollback(True)
            checked += 1
            with_data += bool(carried)
            audited = {entry.patient_id for entry in entries}
            label = f"{route} as {persona}"
            if carried - audited:
                missing.append(label)
            if audited - carried or len(entries) != len(audited):
                extra.append(label)
            for entry in entries:
                assert entry.actor_id == caller.id, label
                assert entry.role == caller.role, label
                assert entry.path == url, label
                assert entry.request_id == response["X-Request-ID"], label
                if method == "GET":
                    assert entry.action in {"read", "export"}, label
                else:
                    assert entry.action in WRITE_ACTIONS, label

    assert missing == [], "answers carrying a patient's data with no audit entry"
    assert extra == [], "audit entries for patients whose data the answer did not carry"
    # The walk really met patients' data, across most routes and roles.
    assert with_data > len(api_routes())
    print(f"\naudit matrix: {checked} routes x roles, {with_data} carried patient data")
