"""GET patients/{id}/fhir/: the patient's record as a FHIR R4 Bundle, and who may read it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle

from clinic.models import AuditEntry
from prescriptions.models import Reminder
from tests.conftest import client_for
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 20, 15, tzinfo=UTC)


def url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/fhir/"


def resources(bundle: dict, resource_type: str) -> list[dict]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]


def reminder(prescription, day: date, status: str, slot: str = "morning") -> Reminder:
    fire_at = datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
    return Reminder.objects.create(
        prescription=prescription,
        slot=slot,
        local_date=day,
        fire_at=fire_at,
        channel="email",
        status=status,
        sent_at=fire_at + timedelta(seconds=3) if status == "sent" else None,
    )


@pytest.fixture
def record(patient_a):
    """patient_a (New York): one prescription, two check-ins, reminders of every status."""
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(
            patient=patient_a,
            start_date=date(2026, 7, 1),
            end_date=date(2026, 9, 30),
            slots=[("morning", "06:45"), ("bedtime", "22:30")],
        )
        CheckInFactory(
            prescription=rx,
            slot="morning",
            performed_at=datetime(2026, 7, 18, 10, 50, tzinfo=UTC),
            pain_before=7,
            pain_after=4,
        )
        CheckInFactory(
            prescription=rx,
            slot="night",
            performed_at=datetime(2026, 7, 19, 7, 10, tzinfo=UTC),
            pain_before=6,
            pain_after=None,
        )
        for day, status in enumerate(["sent", "queued", "failed", "skipped", "sent"], start=10):
            reminder(rx, date(2026, 7, day), status)
    return rx


def fetch(user, patient) -> dict:
    """The bundle, once the FHIR models have validated it (and every resource in it)."""
    with time_machine.travel(NOW, tick=False):
        response = client_for(user).get(url(patient))
    assert response.status_code == 200
    bundle = response.json()
    Bundle.model_validate(bundle)
    return bundle


# --- Who reads it ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a", "patient_a"])
def test_it_answers_the_clinic_team_and_the_patient_themself(request, persona, record):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    response = client_for(user).get(url(record.patient))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert resources(response.json(), "Patient")[0]["id"] == str(record.patient.id)


@pytest.mark.parametrize("persona", ["clinician_b", "other_patient", "patient_b"])
def test_it_hides_the_record_from_everyone_else(request, persona, record):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    response = client_for(user).get(url(record.patient))

    assert response.status_code == 404
    # An error is the API's usual JSON body, not a FHIR resource.
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


def test_it_asks_for_credentials(anon, record):
    assert anon.get(url(record.patient)).status_code == 401


def test_it_answers_404_for_a_patient_that_does_not_exist(clinician_a):
    assert client_for(clinician_a).get("/api/v1/patients/999999/fhir/").status_code == 404


def test_it_also_answers_a_client_that_asks_for_plain_json(clinician_a, record):
    client = client_for(clinician_a)

    response = client.get(url(record.patient), HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["resourceType"] == "Bundle"


# --- What it holds --------------------------------------------------------------------


def test_it_validates_as_a_fhir_bundle_of_type_collection(clinician_a, record):
    bundle = fetch(clinician_a, record.patient)

    parsed = Bundle.model_validate(bundle)

    assert parsed.type == "collection"
    kinds = [entry.resource.get_resource_type() for entry in parsed.entry]
    # The patient, one plan, three pain scores (the night check-in has no `after`), two
    # sent reminders.
    assert kinds == ["Patient", "CarePlan", *["Observation"] * 3, *["Communication"] * 2]


def test_every_reference_resolves_to_an_entry_of_the_bundle(clinician_a, record):
    bundle = fetch(clinician_a, record.patient)

    urls = {
        (e["resource"]["resourceType"], e["resource"]["id"]): e["fullUrl"] for e in bundle["entry"]
    }
    plan_url = urls["CarePlan", str(record.id)]
    patient_url = urls["Patient", str(record.patient.id)]

    for observation in resources(bundle, "Observation"):
        assert observation["subject"]["reference"] == patient_url
        assert observation["basedOn"][0]["reference"] == plan_url
    for communication in resources(bundle, "Communication"):
        assert communication["subject"]["reference"] == patient_url
    assert len(set(urls.values())) == len(bundle["entry"])


def test_it_describes_the_patient(clinician_a, record):
    patient = record.patient

    (resource,) = resources(fetch(clinician_a, patient), "Patient")

    assert resource["name"][0] == {
        "use": "official",
        "family": patient.last_name,
        "given": [patient.first_name],
    }
    assert {"system": "email", "value": patient.email, "use": "home"} in resource["telecom"]
    assert resource["extension"][0]["valueCode"] == "America/New_York"


def test_each_slot_repeats_daily_at_its_local_time_named_by_its_event_timing(clinician_a, record):
    (plan,) = resources(fetch(clinician_a, record.patient), "CarePlan")

    timings = {
        activity["detail"]["scheduledTiming"]["code"]["coding"][0]["code"]: activity["detail"][
            "scheduledTiming"
        ]
        for activity in plan["activity"]
    }
    assert set(timings) == {"WAKE", "HS"}
    assert timings["WAKE"]["repeat"] == {
        "frequency": 1,
        "period": 1,
        "periodUnit": "d",
        "timeOfDay": ["06:45:00"],
    }
    assert timings["HS"]["repeat"]["timeOfDay"] == ["22:30:00"]
    assert timings["HS"]["code"]["coding"][0]["system"] == (
        "http://terminology.hl7.org/CodeSystem/v3-TimingEvent"
    )
    # FHIR forbids `when` beside `timeOfDay`.
    assert all("when" not in timing["repeat"] for timing in timings.values())


def test_the_plan_carries_the_prescriptions_status_and_dates(clinician_a, record):
    (plan,) = resources(fetch(clinician_a, record.patient), "CarePlan")

    assert plan["status"] == "active"
    assert plan["intent"] == "plan"
    assert plan["period"] == {"start": "2026-07-01", "end": "2026-09-30"}


@pytest.mark.parametrize(
    ("status", "end_date", "expected"),
    [
        ("paused", None, "on-hold"),
        ("ended", None, "completed"),
        # The local day after its end date has begun: the prescription reads ended.
        ("active", date(2026, 7, 19), "completed"),
    ],
)
def test_the_plan_status_follows_the_prescription(
    clinician_a, patient_a, status, end_date, expected
):
    with time_machine.travel(NOW, tick=False):
        PrescriptionFactory(
            patient=patient_a, start_date=date(2026, 7, 1), end_date=end_date, status=status
        )

    (plan,) = resources(fetch(clinician_a, patient_a), "CarePlan")

    assert plan["status"] == expected
    assert "end" not in plan["period"] or plan["period"]["end"] == end_date.isoformat()


def test_the_observations_are_the_check_ins_pain_scores(clinician_a, record):
    observations = resources(fetch(clinician_a, record.patient), "Observation")

    scores = [
        (o["code"]["coding"][0]["code"], o["code"]["text"], o["valueInteger"]) for o in observations
    ]
    assert scores == [
        ("72514-3", "Pain before the session", 7),
        ("72514-3", "Pain after the session", 4),
        ("72514-3", "Pain before the session", 6),
    ]
    assert all(o["status"] == "final" for o in observations)


def test_observation_times_carry_the_patients_offset_of_that_date(clinician_a, clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="Europe/Berlin")
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(patient=patient, start_date=date(2026, 3, 1))
        # 28 March is still winter time (+01:00); 30 March is summer time (+02:00).
        for day in (28, 30):
            CheckInFactory(
                prescription=rx,
                slot="morning",
                performed_at=datetime(2026, 3, day, 6, 30, tzinfo=UTC),
                pain_after=None,
            )

    observations = resources(fetch(clinician_a, patient), "Observation")

    assert [o["effectiveDateTime"] for o in observations] == [
        "2026-03-28T07:30:00+01:00",
        "2026-03-30T08:30:00+02:00",
    ]


def test_only_sent_reminders_become_communications(clinician_a, record):
    communications = resources(fetch(clinician_a, record.patient), "Communication")

    sent = Reminder.objects.filter(status="sent").order_by("sent_at")
    assert [c["id"] for c in communications] == [str(r.id) for r in sent]
    assert communications[0]["status"] == "completed"
    # 11:00:03 UTC on 10 July is 07:00:03 in New York (summer time).
    assert communications[0]["sent"] == "2026-07-10T07:00:03-04:00"


def test_a_patient_without_prescriptions_gets_just_their_record(patient_a):
    bundle = fetch(patient_a.user, patient_a)

    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]


@pytest.mark.parametrize("check_ins", [1, 12])
def test_it_runs_a_constant_number_of_queries(
    clinician_a, record, check_ins, django_assert_num_queries
):
    extra_rx = PrescriptionFactory(patient=record.patient, start_date=date(2025, 1, 1))
    for n in range(check_ins):
        CheckInFactory(prescription=extra_rx, performed_at=NOW - timedelta(days=n + 1))
        reminder(extra_rx, date(2025, 2, 1) + timedelta(days=n), "sent", slot="bedtime")
    client = client_for(clinician_a)

    # Token (2), patient, prescriptions, their slots, check-ins, sent reminders, the
    # questionnaire responses with their instruments, audit entry.
    with django_assert_num_queries(9):
        response = client.get(url(record.patient))

    bundle = Bundle.model_validate(response.json())
    assert len(bundle.entry) == 1 + 2 + 3 + 2 * check_ins + 2 + check_ins


def test_each_export_is_in_the_audit_trail_as_an_export(staff_a, record):
    fetch(staff_a, record.patient)

    [entry] = AuditEntry.objects.filter(patient_id=record.patient.id)
    assert (entry.actor, entry.role, entry.action) == (staff_a, "staff", "export")
    assert entry.path == url(record.patient)


def test_a_refused_export_leaves_no_entry(clinician_b, record):
    assert client_for(clinician_b).get(url(record.patient)).status_code == 404
    assert not AuditEntry.objects.filter(patient_id=record.patient.id).exists()
