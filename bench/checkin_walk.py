"""The walk of a check-in POST through the apps' modules: which it enters, in order (calls
inside one module in a row counted once), and how often it climbs back up to one it had
already left; then the same walk by rooms (a wing of prescriptions/ is one room). A
sys.setprofile tracer over clinic/, patients/, prescriptions/, outcomes/ and webhooks/,
from the check-in service on, leaving out their models and the pure time arithmetic
(prescriptions.schedule) every room calls. Run on SQLite (the default settings), from
inside tests/ for its fixtures:

    cp bench/checkin_walk.py tests/test_walk_probe.py
    .venv/bin/pytest -q -s tests/test_walk_probe.py; rm tests/test_walk_probe.py
"""

import itertools
import sys
from datetime import UTC, date, datetime

import pytest
import time_machine

from prescriptions.adherence import ledger_tick
from tests.conftest import client_for
from tests.factories import PatientFactory, PrescriptionFactory

APPS = ("clinic", "patients", "prescriptions", "outcomes", "webhooks")
LEAVES = ("prescriptions.schedule", "prescriptions.models", "clinic.models", "patients.models")
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def module_of(frame) -> str | None:
    name = frame.f_globals.get("__name__", "")
    if name.split(".")[0] in APPS and ".migrations" not in name and not name.startswith(LEAVES):
        return name
    return None


def climbs_of(walk: list[str]) -> list[str]:
    left, climbs = set(), []
    for before, after in itertools.pairwise(walk):
        left.add(before)
        if after in left:
            climbs.append(f"{before} -> {after}")
    return climbs


def rooms_of(walk: list[str]) -> list[str]:
    rooms = []
    for name in walk:
        parts = name.split(".")
        room = ".".join(parts[:2]) if len(parts) > 2 else name
        if not rooms or rooms[-1] != room:
            rooms.append(room)
    return rooms


@pytest.mark.django_db
def test_walk_of_a_check_in(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="America/New_York")
    rx = PrescriptionFactory(patient=patient, start_date=date(2026, 3, 3))
    client = client_for(patient.user)
    walk = []

    def tracer(frame, event, arg):
        if event == "call" and (name := module_of(frame)) and (not walk or walk[-1] != name):
            walk.append(name)

    body = {"prescription": rx.id, "slot": "morning", "pain_before": 6}
    body["performed_at"] = "2026-03-10T07:05:00-04:00"
    with time_machine.travel(NOW, tick=False):
        ledger_tick(now=NOW)  # the scheduler up to date, as it normally is
        sys.setprofile(tracer)
        try:
            response = client.post("/api/v1/check-ins/", body)
        finally:
            sys.setprofile(None)
    assert response.status_code == 201, response.content
    walk = walk[walk.index("prescriptions.checkins") :]
    for label, steps in (("modules", walk), ("rooms", rooms_of(walk))):
        climbs = climbs_of(steps)
        print(f"\n{label}: {len(steps)} entered:\n  " + "\n  ".join(steps))
        print(f"{len(climbs)} climbs back up:\n  " + "\n  ".join(climbs))
