from datetime import date, time, timedelta
from functools import partial

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prescriptions.models import Prescription, PrescriptionSlot, StatusChange
from tests.concurrency import at_once
from tests.conftest import client_for
from tests.factories import PatientFactory, PrescriptionFactory
from tests.live_worker import restore_migration_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# 15:00 UTC is 10:00 in New York, where the personas live.
NOW = "2026-03-10T15:00:00Z"
TODAY = date(2026, 3, 10)


def prescribe(user, patient, **fields):
    return client_for(user).post("/api/v1/prescriptions/", {"patient": patient.id, **fields})


# --- Creating --------------------------------------------------------------------------


def test_it_prescribes_knee_rocks_with_the_default_slots(clinician_a, patient_a):
    response = prescribe(clinician_a, patient_a, start_date="2026-03-09")

    assert response.status_code == 201
    body = response.data
    assert body["protocol"] == "knee-rocks"
    assert body["clinician"] == clinician_a.id
    assert body["status"] == "active"
    assert body["slots"] == [
        {"kind": "morning", "time": "07:00"},
        {"kind": "bedtime", "time": "22:00"},
    ]
    assert (body["as_needed"], body["heat_prep"], body["end_date"]) == (True, False, None)


def test_it_records_the_start_at_local_midnight(clinician_a, patient_a):
    body = prescribe(clinician_a, patient_a, start_date="2026-03-09").data

    change = StatusChange.objects.get(prescription_id=body["id"])
    # Midnight in New York on 9 March 2026 (EDT starts on the 8th) is 04:00 UTC.
    assert change.effective_at.isoformat() == "2026-03-09T04:00:00+00:00"
    assert change.status == "active"
    assert body["history"][0]["status"] == "active"


def test_it_defaults_the_start_to_the_patients_today(clinician_a, patient_a):
    with time_machine.travel("2026-03-11T02:00:00Z", tick=False):  # still the 10th in NY
        body = prescribe(clinician_a, patient_a).data

    assert body["start_date"] == "2026-03-10"


def test_it_takes_the_slots_given(clinician_a, patient_a):
    body = prescribe(
        clinician_a,
        patient_a,
        slots=[{"kind": "bedtime", "time": "23:15"}],
        heat_prep=True,
        as_needed=False,
        notes="Start small.",
    ).data

    assert body["slots"] == [{"kind": "bedtime", "time": "23:15"}]
    assert PrescriptionSlot.objects.get(prescription_id=body["id"]).time == time(23, 15)
    assert (body["heat_prep"], body["as_needed"], body["notes"]) == (True, False, "Start small.")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slots", [{"kind": "morning", "time": "07:00"}, {"kind": "morning", "time": "08:00"}]),
        ("slots", [{"kind": "noon", "time": "12:00"}]),
        ("slots", [{"kind": "morning", "time": "7am"}]),
        ("slots", [{"kind": "morning", "time": "24:00"}]),
        ("slots", [{"kind": "morning", "time": "07:00:00"}]),
        ("slots", [{"kind": "morning", "time": "07:00", "extra": 1}]),
        ("start_date", "2025-03-09"),
        ("start_date", "10/03/2026"),
        ("end_date", "2026-03-01"),
        ("protocol", "squats"),
        ("heat_prep", "yes"),
        ("status", "paused"),
        ("clinician", 1),
    ],
)
def test_it_refuses_bad_input_naming_the_field(clinician_a, patient_a, field, value):
    response = prescribe(clinician_a, patient_a, **{field: value})

    assert response.status_code == 400
    assert field in response.data
    assert not Prescription.objects.exists()


def test_it_accepts_a_start_exactly_a_year_ago(clinician_a, patient_a):
    assert prescribe(clinician_a, patient_a, start_date="2025-03-10").status_code == 201


def test_it_refuses_a_patient_of_another_clinic(clinician_a, patient_b):
    response = prescribe(clinician_a, patient_b)

    assert response.status_code == 400
    assert "patient" in response.data
    assert not Prescription.objects.exists()


def test_it_refuses_a_second_open_prescription_of_the_same_protocol(clinician_a, patient_a):
    assert prescribe(clinician_a, patient_a, start_date="2026-03-01").status_code == 201

    response = prescribe(clinician_a, patient_a, start_date="2026-04-01")

    assert response.status_code == 400
    assert "patient" in response.data
    assert Prescription.objects.count() == 1


def test_it_allows_a_later_prescription_once_the_first_has_ended(clinician_a, patient_a):
    first = prescribe(clinician_a, patient_a, start_date="2026-03-01").data
    client_for(clinician_a).post(f"/api/v1/prescriptions/{first['id']}/end/")

    assert prescribe(clinician_a, patient_a, start_date="2026-03-10").status_code == 201


def test_it_allows_a_new_prescription_after_the_end_date_of_the_first(clinician_a, patient_a):
    prescribe(clinician_a, patient_a, start_date="2026-03-01", end_date="2026-03-05")

    assert prescribe(clinician_a, patient_a, start_date="2026-03-06").status_code == 201


def test_it_lets_only_clinicians_prescribe(staff_a, patient_a):
    assert prescribe(staff_a, patient_a).status_code == 403
    assert prescribe(patient_a.user, patient_a).status_code == 403
    assert not Prescription.objects.exists()


# --- Reading ---------------------------------------------------------------------------


def test_it_lists_the_clinics_prescriptions_to_clinicians_and_staff(
    clinician_a, staff_a, clinician_b, patient_a, patient_b
):
    mine = PrescriptionFactory(patient=patient_a)
    PrescriptionFactory(patient=patient_b)

    for user in (clinician_a, staff_a):
        body = client_for(user).get("/api/v1/prescriptions/").data
        assert [row["id"] for row in body["results"]] == [mine.id]
    assert client_for(clinician_b).get("/api/v1/prescriptions/").data["count"] == 1


def test_it_lists_a_patient_only_their_own(patient_a, other_patient):
    mine = PrescriptionFactory(patient=patient_a)
    PrescriptionFactory(patient=other_patient)

    body = client_for(patient_a.user).get("/api/v1/prescriptions/").data

    assert [row["id"] for row in body["results"]] == [mine.id]


def test_it_filters_by_patient_and_status(clinician_a, patient_a, other_patient):
    PrescriptionFactory(patient=patient_a)
    paused = PrescriptionFactory(patient=other_patient, paused=True)
    client = client_for(clinician_a)

    by_patient = client.get("/api/v1/prescriptions/", {"patient": other_patient.id}).data
    by_status = client.get("/api/v1/prescriptions/", {"status": "paused"}).data

    assert [row["id"] for row in by_patient["results"]] == [paused.id]
    assert [row["id"] for row in by_status["results"]] == [paused.id]


@pytest.mark.parametrize(
    ("name", "value"),
    [("status", "sleeping"), ("patient", "ada"), ("patient", "-6.3e38"), ("patient", "1e48")],
)
def test_it_refuses_a_bad_filter_naming_it(clinician_a, name, value):
    response = client_for(clinician_a).get("/api/v1/prescriptions/", {name: value})

    assert response.status_code == 400
    assert name in response.data


def test_it_hides_prescriptions_outside_reach_with_404(clinician_b, other_patient, patient_a):
    prescription = PrescriptionFactory(patient=patient_a)
    url = f"/api/v1/prescriptions/{prescription.id}/"

    assert client_for(clinician_b).get(url).status_code == 404
    assert client_for(other_patient.user).get(url).status_code == 404
    assert client_for(patient_a.user).get(url).status_code == 200


@pytest.mark.parametrize("rows", [2, 20])
def test_it_lists_in_a_constant_number_of_queries(clinician_a, rows):
    for patient in PatientFactory.create_batch(rows, clinic=clinician_a.clinic):
        PrescriptionFactory(patient=patient, clinician=clinician_a)
    client = client_for(clinician_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/prescriptions/", {"page_size": 100})

    assert response.data["count"] == rows
    assert len(queries) == 7  # token, user, count, page, slots, status changes, audit


# --- Past the end date ----------------------------------------------------------------


def lapsed(clinic, timezone, end_date):
    """A prescription a clinician never ended, whose end date is `end_date`."""
    patient = PatientFactory(clinic=clinic, timezone=timezone)
    return PrescriptionFactory(
        patient=patient, start_date=TODAY - timedelta(days=20), end_date=end_date
    )


def test_it_reads_ended_once_the_patients_day_after_the_end_date_has_begun(clinician_a):
    # At 15:00 UTC on 10 March it is already the 11th on Kiritimati (UTC+14), still the
    # 10th in New York: a course ending on the 10th is over there, not here.
    over = lapsed(clinician_a.clinic, "Pacific/Kiritimati", TODAY)
    running = lapsed(clinician_a.clinic, "America/New_York", TODAY)
    long_over = lapsed(clinician_a.clinic, "America/New_York", TODAY - timedelta(days=3))
    client = client_for(clinician_a)

    def status(rx):
        return client.get(f"/api/v1/prescriptions/{rx.id}/").data["status"]

    def listed(**params):
        rows = client.get("/api/v1/prescriptions/", params).data["results"]
        return {row["id"]: row["status"] for row in rows}

    assert (status(over), status(running), status(long_over)) == ("ended", "active", "ended")
    assert listed() == {over.id: "ended", running.id: "active", long_over.id: "ended"}
    assert set(listed(status="ended")) == {over.id, long_over.id}
    assert set(listed(status="active")) == {running.id}
    over.refresh_from_db()
    assert over.status == "active"  # the record of what the clinician did stays as it was


def test_it_refuses_a_check_in_on_a_prescription_past_its_end_date(clinician_a):
    rx = lapsed(clinician_a.clinic, "America/New_York", TODAY - timedelta(days=1))

    response = client_for(rx.patient.user).post(
        "/api/v1/check-ins/",
        {
            "prescription": rx.id,
            "slot": "morning",
            "performed_at": "2026-03-10T09:30:00-04:00",
            "pain_before": 4,
        },
    )

    assert response.status_code == 400
    assert "prescription" in response.data


@pytest.mark.parametrize("rows", [2, 20])
def test_it_filters_by_status_in_a_constant_number_of_queries(clinician_a, rows):
    for n in range(rows):
        lapsed(clinician_a.clinic, "Pacific/Kiritimati", TODAY - timedelta(days=n % 3))
    client = client_for(clinician_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/prescriptions/", {"status": "ended", "page_size": 100})

    assert response.data["count"] == rows
    # token, user, the end dates near today, count, page, slots, status changes, audit
    assert len(queries) == 8


# --- Changing --------------------------------------------------------------------------


@pytest.fixture
def prescription(patient_a, clinician_a):
    return PrescriptionFactory(
        patient=patient_a, clinician=clinician_a, start_date=TODAY - timedelta(days=7)
    )


def change(user, prescription, **fields):
    return client_for(user).patch(f"/api/v1/prescriptions/{prescription.id}/", fields)


def test_it_replaces_the_slots(clinician_a, prescription):
    response = change(
        clinician_a,
        prescription,
        slots=[{"kind": "bedtime", "time": "21:30"}],
    )

    assert response.status_code == 200
    assert response.data["slots"] == [{"kind": "bedtime", "time": "21:30"}]
    assert list(prescription.slots.values_list("kind", flat=True)) == ["bedtime"]


@pytest.mark.parametrize(
    ("slot", "missing"), [({"time": "07:00"}, "kind"), ({"kind": "morning"}, "time")]
)
def test_it_refuses_a_replacement_slot_missing_a_field(clinician_a, prescription, slot, missing):
    response = change(clinician_a, prescription, slots=[slot])

    assert response.status_code == 400
    assert missing in response.data["slots"][0]
    assert prescription.slots.count() == 2


def test_it_sets_and_clears_the_end_date(clinician_a, prescription):
    assert change(clinician_a, prescription, end_date="2026-04-30").data["end_date"] == (
        "2026-04-30"
    )
    assert change(clinician_a, prescription, end_date=None).data["end_date"] is None


def test_it_refuses_an_end_before_the_start(clinician_a, prescription):
    response = change(clinician_a, prescription, end_date="2026-03-01")

    assert response.status_code == 400
    assert "end_date" in response.data
    prescription.refresh_from_db()
    assert prescription.end_date is None


def test_it_moves_the_start_while_nothing_happened(clinician_a, prescription):
    response = change(clinician_a, prescription, start_date="2026-03-05")

    assert response.status_code == 200
    opening = prescription.status_changes.get()
    assert opening.effective_at.isoformat() == "2026-03-05T05:00:00+00:00"


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2030-01-01", "The start may lie at most a year ahead."),
        ("2025-03-09", "The start may lie at most a year in the past."),
    ],
)
def test_it_holds_a_moved_start_to_the_rule_a_new_one_meets(
    clinician_a, patient_a, prescription, start, message
):
    refused_on_post = prescribe(clinician_a, patient_a, start_date=start)
    response = change(clinician_a, prescription, start_date=start)

    assert refused_on_post.status_code == response.status_code == 400
    assert refused_on_post.data["start_date"] == response.data["start_date"] == [message]
    prescription.refresh_from_db()
    assert prescription.start_date == TODAY - timedelta(days=7)


def test_it_refuses_to_move_the_start_once_check_ins_exist(clinician_a, prescription):
    from tests.factories import CheckInFactory

    CheckInFactory(prescription=prescription)

    response = change(clinician_a, prescription, start_date="2026-03-05")

    assert response.status_code == 400
    assert "start_date" in response.data


@pytest.mark.parametrize("field", ["patient", "protocol", "status", "clinician"])
def test_it_refuses_to_change_what_is_fixed(clinician_a, prescription, field):
    response = change(clinician_a, prescription, **{field: "x"})

    assert response.status_code == 400
    assert field in response.data


def test_it_refuses_to_change_an_ended_prescription(clinician_a, prescription):
    client_for(clinician_a).post(f"/api/v1/prescriptions/{prescription.id}/end/")

    response = change(clinician_a, prescription, notes="again")

    assert response.status_code == 400
    assert response.data["detail"]


def test_it_lets_only_clinicians_change(staff_a, patient_a, prescription):
    assert change(staff_a, prescription, notes="x").status_code == 403
    assert change(patient_a.user, prescription, notes="x").status_code == 403


def test_it_hides_another_clinics_prescription_from_changes(clinician_b, prescription):
    assert change(clinician_b, prescription, notes="x").status_code == 404


def test_it_reschedules_reminders_after_every_change(clinician_a, patient_a, monkeypatch):
    from prescriptions import services

    calls = []
    monkeypatch.setattr(services, "slots_reschedule", lambda **kw: calls.append(kw))

    created = prescribe(clinician_a, patient_a).data
    change(clinician_a, Prescription.objects.get(id=created["id"]), notes="x")

    assert calls == [{"prescription_id": created["id"]}] * 2


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; the race needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_it_creates_one_prescription_when_a_double_submit_races(clinician_a, patient_a):
    restore_migration_data()
    clients = [client_for(clinician_a) for _ in range(3)]
    responses = at_once(*(partial(prescribe_with, client, patient_a) for client in clients))
    statuses = [response.status_code for response in responses]

    assert sorted(statuses) == [201, 400, 400]
    assert Prescription.objects.filter(patient=patient_a).count() == 1


def prescribe_with(client, patient):
    return client.post("/api/v1/prescriptions/", {"patient": patient.id})
