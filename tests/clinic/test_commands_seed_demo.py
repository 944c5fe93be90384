from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from clinic.models import Clinic, User
from outcomes.selectors import clinic_outcomes, patient_outcomes
from patients.models import Patient
from prescriptions.adherence import adherence_report, default_range
from prescriptions.models import Alert, CheckIn, Prescription
from prescriptions.schedule import local_today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _three_weeks_across_clock_changes(time_machine):
    # The demo's three weeks then span London's spring-forward and Sydney's fall-back
    # days, and the stories told below must not depend on the day the demo is seeded.
    time_machine.move_to(datetime(2026, 4, 7, 15, 30, tzinfo=UTC))


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def report(email: str) -> dict:
    patient = Patient.objects.get(email=email)
    start, end = default_range(local_today(patient.zone))
    return adherence_report(patient=patient, start=start, end=end)


def test_it_builds_a_clinic_with_a_clinician_staff_and_patients_across_time_zones():
    seed()

    clinic = Clinic.objects.get(slug="riverside")
    assert clinic.name == "Riverside Back Clinic"
    roles = sorted(clinic.users.values_list("role", flat=True))
    assert roles.count("clinician") == 1
    assert roles.count("staff") == 1
    zones = set(clinic.patients.values_list("timezone", flat=True))
    assert {"America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"} <= zones
    assert Prescription.objects.filter(status="active").count() == 4


def test_it_tells_a_story_staff_can_read_in_the_numbers():
    seed()

    keen, lapsed, worse = (
        report("maya.chen@example.com"),
        report("isla.brown@example.com"),
        report("arjun.mehta@example.com"),
    )
    assert keen["adherence_pct"] > 75
    assert lapsed["adherence_pct"] < keen["adherence_pct"] - 20
    assert keen["pain"]["change"] <= -2
    assert worse["pain"]["change"] >= 2
    assert CheckIn.objects.filter(slot="night").exists()
    assert CheckIn.objects.exclude(advice="").exists()
    assert Alert.objects.filter(acknowledged_at__isnull=True).exists()


def test_it_adds_nothing_when_run_again_and_prints_sign_ins_that_work(anon):
    seed()
    counts = (User.objects.count(), Patient.objects.count(), CheckIn.objects.count())

    output = seed()

    assert (User.objects.count(), Patient.objects.count(), CheckIn.objects.count()) == counts
    assert "already there" in output
    assert "DEMO" in output
    for username, password in [
        ("dr.rivera@riverside.example", "demo-clinician-pass"),
        ("frontdesk@riverside.example", "demo-staff-pass"),
        ("maya.chen@example.com", "demo-patient-pass"),
    ]:
        assert username in output
        response = anon.post("/api/v1/auth/token/", {"username": username, "password": password})
        assert response.status_code == 200, username
    # Each run prints a fresh code for the patient who has not activated yet.
    code = output.split("activation code ")[1].split()[0]
    response = anon.post(
        "/api/v1/auth/activate/", {"code": code, "password": "a-new-patient-password"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "patient"


def test_it_gives_two_patients_a_psfs_baseline_and_two_follow_ups_one_better_one_worse():
    output = seed()

    assert "Seeded questionnaires for 2 demo patients." in output
    maya = {o["questionnaire"]: o for o in patient_outcomes(Patient.objects.get(first_name="Maya"))}
    arjun = {
        o["questionnaire"]: o for o in patient_outcomes(Patient.objects.get(first_name="Arjun"))
    }
    assert len(maya["psfs"]["series"]) == 3 and maya["psfs"]["responder"]
    assert len(maya["pgic"]["series"]) == 2 and maya["pgic"]["responder"]
    assert len(arjun["psfs"]["series"]) == 3 and arjun["psfs"]["change"] <= -2
    assert not arjun["pgic"]["responder"]
    assert Alert.objects.filter(
        patient__first_name="Arjun", kind=Alert.Kind.OUTCOME_WORSENING, acknowledged_at=None
    ).exists()
    summary = {row["questionnaire"]: row for row in clinic_outcomes(Clinic.objects.get().id)}
    assert summary["psfs"]["patients_followed_up"] == 2
    assert summary["psfs"]["responders"] == 1

    seed()  # again: nothing added

    assert Patient.objects.get(first_name="Maya").questionnaire_responses.count() == 5
