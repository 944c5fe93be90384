"""The typed client generated from the OpenAPI schema (bin/client) works against the API.

A clinic's developer generates the client and calls the API through it; when the schema
says something the API does not do (a field missing, a wrong type, a status left out), the
generator warns or the answer fails to parse into its model, and this fails.
"""

import importlib
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from knox.models import get_token_model

from tests.factories import (
    PASSWORD,
    CheckInFactory,
    ClinicFactory,
    ClinicianFactory,
    PrescriptionFactory,
    StaffFactory,
)

BASE_DIR = Path(__file__).resolve().parent.parent
ZONE = "Europe/Berlin"


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """The folder bin/client wrote (the schema and the package), on sys.path."""
    folder = tmp_path_factory.mktemp("typed-client")
    done = subprocess.run(
        [BASE_DIR / "bin" / "client", folder], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))


def client_module(name: str):
    return importlib.import_module(f"kneerocks_client.{name}")


def call(endpoint: str, *, status: int = 200, **arguments):
    """One operation through the client: the answer parsed into its model."""
    module = client_module(f"api.v1.v1_{endpoint}")
    response = module.sync_detailed(**arguments)
    assert response.status_code == status, response.content
    return response.parsed


def test_it_has_a_function_for_every_operation_of_the_schema(generated):
    schema = yaml.safe_load((generated / "schema.yml").read_text())
    operations = sum(len(methods) for methods in schema["paths"].values())
    functions = list((generated / "kneerocks_client" / "api" / "v1").glob("v1_*.py"))

    assert len(functions) == operations


def test_it_signs_in_enrols_prescribes_checks_in_and_reads_adherence(
    generated, live_server, transactional_db
):
    clinic = ClinicFactory(timezone=ZONE)
    clinician = ClinicianFactory(clinic=clinic)
    api = client_module("client")
    models = client_module("models")
    anonymous = api.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    signed_in = call(
        "auth_token_create",
        client=anonymous,
        body=models.SignInRequest(username=clinician.username, password=PASSWORD),
    )
    assert isinstance(signed_in, models.Token)
    assert signed_in.role == models.RoleEnum.CLINICIAN
    doctor = api.AuthenticatedClient(
        base_url=live_server.url, token=signed_in.token, raise_on_unexpected_status=True
    )

    enrolment = call(
        "patients_create",
        status=201,
        client=doctor,
        body=models.PatientWriteRequest(
            first_name="Nora", last_name="Kim", email="nora.kim@example.com", timezone=ZONE
        ),
    )
    assert isinstance(enrolment, models.Enrolment)
    assert enrolment.activated is False

    # Written today, dated from yesterday: yesterday's morning session is expected.
    yesterday = datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=1)
    prescription = call(
        "prescriptions_create",
        status=201,
        client=doctor,
        body=models.PrescriptionWriteRequest(
            patient=enrolment.id,
            protocol="knee-rocks",
            start_date=yesterday,
            slots=[models.SlotRequest(kind=models.SlotKindEnum.MORNING, time="07:00")],
        ),
    )
    assert isinstance(prescription, models.Prescription)
    assert prescription.status == models.PrescriptionStatusEnum.ACTIVE
    assert prescription.start_date == yesterday

    activated = call(
        "auth_activate_create",
        client=anonymous,
        body=models.ActivateRequest(code=enrolment.activation_code, password="rock-gently-42"),
    )
    assert activated.role == models.RoleEnum.PATIENT
    patient = api.AuthenticatedClient(
        base_url=live_server.url, token=activated.token, raise_on_unexpected_status=True
    )

    morning = datetime.combine(yesterday, time(7, 20), tzinfo=ZoneInfo(ZONE))
    check_in = call(
        "check_ins_create",
        status=201,
        client=patient,
        idempotency_key="morning-1",
        body=models.CheckInWriteRequest(
            prescription=prescription.id,
            slot=models.CheckInSlotEnum.MORNING,
            performed_at=morning,
            pain_before=6,
            pain_after=3,
            duration_minutes=4,
        ),
    )
    assert isinstance(check_in, models.CheckIn)
    assert check_in.local_date == yesterday
    assert check_in.performed_at == morning

    # The answers that say no parse too: each names what went wrong.
    conflict = call(
        "check_ins_create",
        status=409,
        client=patient,
        idempotency_key="morning-1",
        body=models.CheckInWriteRequest(
            prescription=prescription.id,
            slot=models.CheckInSlotEnum.NIGHT,
            performed_at=morning,
            pain_before=5,
        ),
    )
    assert isinstance(conflict, models.Error)
    assert "Idempotency-Key" in conflict.detail
    too_much_pain = call(
        "check_ins_create",
        status=400,
        client=patient,
        body=models.CheckInWriteRequest(
            prescription=prescription.id,
            slot=models.CheckInSlotEnum.OTHER,
            performed_at=morning,
            pain_before=11,
        ),
    )
    assert isinstance(too_much_pain, models.BadInput)
    assert "pain_before" in too_much_pain.additional_properties

    report = call(
        "patients_adherence_retrieve",
        client=doctor,
        id=enrolment.id,
        from_=yesterday,
        to=yesterday,
    )
    assert isinstance(report, models.PatientReport)
    assert (report.expected_sessions, report.completed_sessions) == (1, 1)
    assert report.adherence_pct == 100.0
    assert report.pain.baseline == 6.0
    assert [(day.date, day.completed) for day in report.by_day] == [(yesterday, 1)]
    assert isinstance(report.from_, date)


# What a clinic's system reads, as whom; every answer must parse into its model.
READS = {
    "clinician": [
        "me_retrieve", "patients_list", "prescriptions_list", "check_ins_list", "reminders_list",
        "alerts_list", "adherence_retrieve", "outcomes_list", "team_list", "team_events_list",
        "clinic_retrieve", "events_list", "protocols_list", "questionnaires_list",
        "questionnaire_responses_list", "auth_tokens_list",
    ],
    "staff": ["patients_list", "adherence_retrieve", "outcomes_list", "alerts_list"],
    "patient": [
        "me_retrieve", "me_export_retrieve", "me_calendar_retrieve",
        "me_reminder_preferences_retrieve", "me_questionnaires_list", "prescriptions_list",
        "check_ins_list", "reminders_list",
    ],
}  # fmt: skip
PATIENT_READS = ["patients_retrieve", "patients_adherence_retrieve", "patients_outcomes_list"]
PRESCRIPTION_READS = [
    "prescriptions_retrieve",
    "prescriptions_history_list",
    "prescriptions_schedule_list",
    "prescriptions_questionnaires_list",
]


def test_it_parses_every_read_of_each_role_into_its_model(generated, live_server, transactional_db):
    prescription = PrescriptionFactory(patient__timezone=ZONE)
    # A red flag: an alert, a paused prescription, an event, a questionnaire due.
    CheckInFactory(prescription=prescription, red_flags=["fever"])
    people = {
        "clinician": prescription.clinician,
        "staff": StaffFactory(clinic=prescription.patient.clinic),
        "patient": prescription.patient.user,
    }
    api = client_module("client")
    for role, user in people.items():
        _, token = get_token_model().objects.create(user=user)
        client = api.AuthenticatedClient(
            base_url=live_server.url, token=token, raise_on_unexpected_status=True
        )
        for endpoint in READS[role]:
            assert call(endpoint, client=client) is not None, endpoint
        for endpoint in PATIENT_READS:
            assert call(endpoint, client=client, id=prescription.patient_id) is not None
        for endpoint in PRESCRIPTION_READS:
            assert call(endpoint, client=client, id=prescription.id) is not None
