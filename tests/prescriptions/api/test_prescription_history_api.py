"""GET prescriptions/{id}/history/: every change of a prescription, oldest first."""

from datetime import datetime, timedelta

import pytest
import time_machine

from clinic.models import AuditEntry
from prescriptions import checkins
from tests.conftest import client_for
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2026-03-10T15:00:00+00:00")  # 11:00 in New York (EDT)


def url(prescription_id: int) -> str:
    return f"/api/v1/prescriptions/{prescription_id}/history/"


@pytest.fixture
def story(clinician_a, patient_a):
    """Prescribed, its times and heat changed, paused, resumed and ended, through the API."""
    api = client_for(clinician_a)
    steps = [
        ("post", "/api/v1/prescriptions/", {"patient": patient_a.id, "start_date": "2026-03-03"}),
        (
            "patch",
            "{rx}",
            {"slots": [{"kind": "bedtime", "time": "21:30"}], "heat_prep": True},
        ),
        ("post", "{rx}pause/", {"reason": "Flare-up after a fall"}),
        ("post", "{rx}resume/", {}),
        ("post", "{rx}end/", {"reason": "Pain gone"}),
    ]
    rx = None
    for minutes, (method, path, body) in enumerate(steps):
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            path = path.format(rx=f"/api/v1/prescriptions/{rx}/")
            response = getattr(api, method)(path, body, format="json")
            assert response.status_code in (200, 201), response.data
            rx = rx or response.data["id"]
    return rx


def test_it_lists_every_change_oldest_first_with_who_and_why(clinician_a, story):
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        response = client_for(clinician_a).get(url(story))

    assert response.status_code == 200
    assert [(e["change"], e["actor"], e["reason"]) for e in response.data] == [
        ("created", clinician_a.id, None),
        ("plan", clinician_a.id, None),
        ("paused", clinician_a.id, "Flare-up after a fall"),
        ("resumed", clinician_a.id, None),
        ("ended", clinician_a.id, "Pain gone"),
    ]
    assert [e["at"] for e in response.data] == sorted(e["at"] for e in response.data)
    plan = response.data[1]
    assert plan["fields"] == {
        "slots": [
            [{"kind": "bedtime", "time": "22:00"}, {"kind": "morning", "time": "07:00"}],
            [{"kind": "bedtime", "time": "21:30"}],
        ],
        "heat_prep": [False, True],
    }
    assert all(e["fields"] is None for e in response.data if e["change"] != "plan")


def test_it_records_only_what_changed_and_nothing_for_a_change_to_the_same(clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a, notes="Gently")
    api = client_for(clinician_a)

    api.patch(f"/api/v1/prescriptions/{rx.id}/", {"notes": "Gently"}, format="json")
    api.patch(
        f"/api/v1/prescriptions/{rx.id}/",
        {"end_date": (rx.start_date + timedelta(days=40)).isoformat(), "as_needed": False},
        format="json",
    )
    history = api.get(url(rx.id)).data

    assert [e["change"] for e in history] == ["created", "plan"]
    assert history[1]["fields"] == {
        "end_date": [None, (rx.start_date + timedelta(days=40)).isoformat()],
        "as_needed": [True, False],
    }


def test_it_names_no_actor_when_a_red_flag_paused_the_prescription(clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    checkins.checkin_record(
        prescription=rx,
        slot="bedtime",
        performed_at=datetime.now().astimezone() - timedelta(minutes=5),
        pain_before=6,
        red_flags=["fever"],
    )

    history = client_for(clinician_a).get(url(rx.id)).data

    assert history[-1]["change"] == "paused"
    assert history[-1]["actor"] is None
    assert history[-1]["reason"].startswith("Red flag reported in check-in")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("clinician_a", 200),
        ("staff_a", 200),
        ("patient_a", 200),
        ("other_patient", 404),
        ("clinician_b", 404),
        ("patient_b", 404),
    ],
)
def test_it_answers_the_team_and_the_patient_and_hides_it_from_others(
    request, persona, status, patient_a
):
    rx = PrescriptionFactory(patient=patient_a)
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)  # a patient fixture is the Patient

    assert client_for(user).get(url(rx.id)).status_code == status


def test_it_records_the_read_in_the_audit_trail(staff_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)

    client_for(staff_a).get(url(rx.id))

    assert AuditEntry.objects.filter(
        patient_id=patient_a.id, actor=staff_a, action="read", path=url(rx.id)
    ).exists()


def test_it_reads_in_the_same_queries_however_long_the_history(
    clinician_a, patient_a, django_assert_max_num_queries
):
    rx = PrescriptionFactory(patient=patient_a)
    api = client_for(clinician_a)
    for notes in ("one", "two", "three", "four"):
        api.patch(f"/api/v1/prescriptions/{rx.id}/", {"notes": notes}, format="json")

    # Token and user, the prescription, status changes, plan changes, the audit entry.
    with django_assert_max_num_queries(8):
        assert len(api.get(url(rx.id)).data) == 5
