import logging

import pytest
from django.db import DatabaseError, transaction
from django.test import Client

from clinic.models import AuditEntry
from clinic.request_id import RequestIdFilter
from prescriptions.models import AdherenceDay, CheckIn, IdempotencyRecord
from tests.conftest import client_for
from tests.factories import PatientFactory, PrescriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def audit_of(patient):
    return AuditEntry.objects.filter(patient_id=patient.id).order_by("id")


# --- Request id -------------------------------------------------------------------------


def test_it_answers_a_new_request_id_in_a_header(clinician_a):
    client = client_for(clinician_a)
    first = client.get("/api/v1/me/")["X-Request-ID"]
    second = client.get("/api/v1/me/")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_it_keeps_a_safe_request_id_sent_by_a_proxy(clinician_a):
    response = client_for(clinician_a).get("/api/v1/me/", HTTP_X_REQUEST_ID="lb-7f3a9c21.eu")
    assert response["X-Request-ID"] == "lb-7f3a9c21.eu"


@pytest.mark.parametrize("unsafe", ["short", "new\nline-forged-entry", "x" * 65, "a b c d e f g"])
def test_it_replaces_a_request_id_that_could_forge_a_log_line(clinician_a, unsafe):
    response = client_for(clinician_a).get("/api/v1/me/", HTTP_X_REQUEST_ID=unsafe)
    assert response["X-Request-ID"] != unsafe
    assert len(response["X-Request-ID"]) == 32


def test_every_log_line_of_a_request_carries_its_id(clinician_a):
    records = []
    handler = logging.Handler()
    handler.addFilter(RequestIdFilter())
    handler.emit = records.append
    logging.getLogger().addHandler(handler)
    try:
        response = client_for(clinician_a).get("/api/v1/patients/999999/")
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 404
    assert records, "Django logs the 404"
    assert {record.request_id for record in records} == {response["X-Request-ID"]}


def test_a_log_line_outside_a_request_says_so():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "tick", (), None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


# --- What is recorded -------------------------------------------------------------------


def test_a_read_records_who_in_which_role_what_and_when(staff_a, patient_a):
    response = client_for(staff_a).get(f"/api/v1/patients/{patient_a.id}/")
    [entry] = audit_of(patient_a)
    assert (entry.actor, entry.role, entry.action, entry.method) == (
        staff_a,
        "staff",
        "read",
        "GET",
    )
    assert entry.path == f"/api/v1/patients/{patient_a.id}/"
    assert entry.request_id == response["X-Request-ID"]


def test_a_change_is_recorded_as_an_update(clinician_a, patient_a):
    client_for(clinician_a).patch(f"/api/v1/patients/{patient_a.id}/", {"phone": "+1 555 0101"})
    assert list(audit_of(patient_a).values_list("action", flat=True)) == ["update"]


def test_a_refused_or_failed_request_records_nothing(clinician_a, clinician_b, patient_a):
    client_for(clinician_b).get(f"/api/v1/patients/{patient_a.id}/")  # 404
    client_for(clinician_a).patch(f"/api/v1/patients/{patient_a.id}/", {"timezone": "Mars/Base"})
    assert not audit_of(patient_a).exists()


def test_the_query_string_is_not_kept(clinician_a, patient_a):
    client_for(clinician_a).get("/api/v1/patients/", {"search": patient_a.last_name})
    [entry] = audit_of(patient_a)
    assert entry.path == "/api/v1/patients/"


def test_the_clinic_csv_export_is_recorded_as_an_export(staff_a, patient_a, other_patient):
    response = client_for(staff_a).get("/api/v1/adherence/", {"format": "csv"})
    assert response.status_code == 200
    assert set(AuditEntry.objects.values_list("patient_id", "action")) == {
        (patient_a.id, "export"),
        (other_patient.id, "export"),
    }


def test_a_replayed_check_in_is_recorded_like_the_first(patient_a):
    prescription = PrescriptionFactory(patient=patient_a)
    client = client_for(patient_a.user)
    body = {
        "prescription": prescription.id,
        "slot": "other",
        "performed_at": "2026-11-30T01:00:00+00:00",
        "pain_before": 3,
    }
    for _ in range(2):
        client.post("/api/v1/check-ins/", body, HTTP_IDEMPOTENCY_KEY="same-key-1")
    assert list(audit_of(patient_a).values_list("action", flat=True)) == ["create", "create"]


def test_a_check_in_whose_entry_cannot_be_written_is_not_stored(patient_a, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr("clinic.audit._insert", refuse)
    prescription = PrescriptionFactory(patient=patient_a)
    body = {
        "prescription": prescription.id,
        "slot": "other",
        "performed_at": "2026-11-30T01:00:00+00:00",
        "pain_before": 3,
    }
    for key in ({}, {"HTTP_IDEMPOTENCY_KEY": "kept-only-with-its-entry"}):
        response = client_for(patient_a.user).post("/api/v1/check-ins/", body, **key)
        assert response.status_code == 503
        assert response["Retry-After"] == "1"
    assert not CheckIn.objects.exists()
    assert not AdherenceDay.objects.filter(check_ins__gt=0).exists()
    assert not IdempotencyRecord.objects.exists()


# --- The staff web page -----------------------------------------------------------------


def test_the_staff_page_records_a_read_of_each_patient_it_shows(staff_a, patient_a, patient_b):
    web = Client()
    web.force_login(staff_a)
    assert web.get("/staff/").status_code == 200
    assert audit_of(patient_a).get().action == "read"
    assert not audit_of(patient_b).exists()  # another clinic's


def test_the_staff_csv_download_is_recorded_as_an_export(staff_a, patient_a):
    web = Client()
    web.force_login(staff_a)
    web.get("/staff/adherence.csv")
    assert audit_of(patient_a).get().action == "export"


# --- GET patients/{id}/audit/ -----------------------------------------------------------


def test_the_team_reads_a_patients_trail_newest_first(clinician_a, staff_a, patient_a):
    client_for(staff_a).get(f"/api/v1/patients/{patient_a.id}/")
    client_for(clinician_a).patch(f"/api/v1/patients/{patient_a.id}/", {"phone": ""})

    response = client_for(clinician_a).get(f"/api/v1/patients/{patient_a.id}/audit/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["actor"], r["role"], r["action"]) for r in rows] == [
        (clinician_a.id, "clinician", "update"),
        (staff_a.id, "staff", "read"),
    ]
    assert set(rows[0]) >= {"at", "actor", "role", "action", "path", "request_id"}
    # Reading the trail is itself on the trail.
    assert audit_of(patient_a).last().path == f"/api/v1/patients/{patient_a.id}/audit/"


def test_a_patient_cannot_read_the_trail_and_another_clinic_never_sees_it(patient_a, clinician_b):
    url = f"/api/v1/patients/{patient_a.id}/audit/"
    assert client_for(patient_a.user).get(url).status_code == 403
    assert client_for(clinician_b).get(url).status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete", "post"])
def test_no_api_call_changes_or_deletes_the_trail(clinician_a, patient_a, method):
    client = client_for(clinician_a)
    url = f"/api/v1/patients/{patient_a.id}/audit/"
    client.get(url)
    before = list(AuditEntry.objects.values())
    assert getattr(client, method)(url, {}).status_code == 405
    assert list(AuditEntry.objects.values()) == before


# --- Append-only ------------------------------------------------------------------------


@pytest.fixture
def entry(clinician_a, patient_a):
    client_for(clinician_a).get(f"/api/v1/patients/{patient_a.id}/")
    return audit_of(patient_a).get()


def test_the_database_refuses_to_change_an_entry(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(id=entry.id).update(action="update")
    entry.refresh_from_db()
    assert entry.action == "read"


def test_the_database_refuses_to_delete_an_entry(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(id=entry.id).delete()
    assert AuditEntry.objects.filter(id=entry.id).exists()


@pytest.fixture
def admin_client(clinic_a):
    admin = UserFactory(
        username="root@example.test", role="", clinic=None, is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_lists_entries_but_offers_no_add_change_or_delete(admin_client, entry):
    base = "/admin/clinic/auditentry/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.post(f"{base}{entry.id}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(f"{base}{entry.id}/change/", {"action": "update"})
    entry.refresh_from_db()
    assert entry.action == "read"


def test_the_admin_records_opening_a_patient_and_never_deletes_one(admin_client, patient_a):
    url = f"/admin/patients/patient/{patient_a.id}/"
    assert admin_client.get(f"{url}change/").status_code == 200
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    patient_a.refresh_from_db()
    [entry] = audit_of(patient_a)
    assert (entry.role, entry.action) == ("admin", "read")


def test_the_admin_change_list_records_each_patient_shown(admin_client, patient_a, patient_b):
    PrescriptionFactory(patient=patient_b)
    admin_client.get("/admin/prescriptions/prescription/")
    assert set(AuditEntry.objects.values_list("patient_id", flat=True)) == {patient_b.id}


@pytest.mark.django_db(transaction=True)
def test_a_test_that_commits_can_still_empty_the_database_afterwards(clinic_a):
    # The flush between such tests deletes every row; the trigger is lifted for it alone.
    patient = PatientFactory(clinic=clinic_a)
    client_for(patient.user).get("/api/v1/me/")
    assert audit_of(patient).count() == 1


# --- Pages outside the API --------------------------------------------------------------


def test_a_calendar_app_reading_the_secret_feed_is_recorded_without_an_actor(patient_a):
    from prescriptions.reminders import links

    token = links.calendar_token(patient_a.id, patient_a.calendar_feed_version)
    assert Client().get(f"/cal/{token}.ics").status_code == 200
    [entry] = audit_of(patient_a)
    assert (entry.actor, entry.role, entry.action) == (None, "anonymous", "read")


def test_a_patient_downloading_their_data_from_their_page_is_an_export(patient_a):
    web = Client()
    web.force_login(patient_a.user)
    assert web.get("/my/export.json").status_code == 200
    [entry] = audit_of(patient_a)
    assert (entry.actor, entry.role, entry.action) == (patient_a.user, "patient", "export")


def test_a_read_whose_entry_cannot_be_written_is_withheld(staff_a, patient_a, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr("clinic.audit._insert", refuse)
    response = client_for(staff_a).get(f"/api/v1/patients/{patient_a.id}/")
    assert response.status_code == 503
    assert patient_a.last_name not in response.content.decode()
