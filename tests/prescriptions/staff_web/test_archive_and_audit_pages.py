"""The staff pages archive a patient and show who opened their record."""

import pytest

from clinic.models import AuditEntry
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db


def test_a_clinician_archives_a_patient_from_their_page_and_brings_them_back(
    clinician_a, patient_a
):
    web = signed_in(clinician_a)
    page = f"/staff/patients/{patient_a.id}/"
    assert f'href="{page}archive/"' in web.get(page).content.decode()
    assert web.post(f"{page}archive/").status_code == 400  # no reason given
    patient_a.refresh_from_db()
    assert patient_a.archived_at is None

    response = web.post(f"{page}archive/", {"reason": "Moved away"}, follow=True)

    patient_a.refresh_from_db()
    assert patient_a.archived_at is not None and patient_a.archive_reason == "Moved away"
    assert "Archived" in response.content.decode()
    assert "Moved away" in response.content.decode()
    assert "Bring back into care" in response.content.decode()
    assert AuditEntry.objects.filter(patient_id=patient_a.id, action="archive").exists()

    web.post(f"{page}restore/")
    patient_a.refresh_from_db()
    assert patient_a.archived_at is None


def test_staff_cannot_archive_and_see_no_button(staff_a, patient_a):
    web = signed_in(staff_a)
    page = f"/staff/patients/{patient_a.id}/"
    assert "/archive/" not in web.get(page).content.decode()
    assert web.post(f"{page}archive/").status_code == 403
    patient_a.refresh_from_db()
    assert patient_a.archived_at is None


def test_another_clinics_patient_cannot_be_archived(clinician_b, patient_a):
    assert (
        signed_in(clinician_b).post(f"/staff/patients/{patient_a.id}/archive/").status_code == 404
    )


def test_the_clinic_table_leaves_archived_patients_out_unless_asked(
    clinician_a, patient_a, other_patient
):
    web = signed_in(clinician_a)
    web.post(f"/staff/patients/{patient_a.id}/archive/", {"reason": "Discharged"})

    everyone = web.get("/staff/").content.decode()
    archived = web.get("/staff/", {"show": "archived"}).content.decode()

    assert patient_a.last_name not in everyone and other_patient.last_name in everyone
    assert patient_a.last_name in archived and other_patient.last_name not in archived


def test_the_patient_page_shows_who_opened_the_record(clinician_a, staff_a, patient_a):
    staff_a.first_name, staff_a.last_name = "Rosa", "Front"
    staff_a.save()
    client_for(staff_a).get(f"/api/v1/patients/{patient_a.id}/fhir/")

    page = signed_in(clinician_a).get(f"/staff/patients/{patient_a.id}/").content.decode()

    assert "Who opened this record" in page
    assert "Rosa Front" in page
    assert "Export" in page
    trail = signed_in(clinician_a).get(f"/staff/patients/{patient_a.id}/audit/").content.decode()
    assert f"/api/v1/patients/{patient_a.id}/fhir/" in trail


def test_the_audit_page_answers_404_to_another_clinic(clinician_b, patient_a):
    response = signed_in(clinician_b).get(f"/staff/patients/{patient_a.id}/audit/")

    assert response.status_code == 404


@pytest.mark.parametrize("entries", [3, 300])
def test_the_audit_page_reads_in_the_same_queries_however_long_the_trail(
    django_assert_num_queries, staff_a, patient_a, entries
):
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=staff_a,
            role="staff",
            patient_id=patient_a.id,
            action="read",
            method="GET",
            path="/staff/",
            request_id=str(i),
        )
        for i in range(entries)
    )
    client = signed_in(staff_a)

    # Session and user (2); the patient (1); the count and the page of entries (2).
    with django_assert_num_queries(5):
        response = client.get(f"/staff/patients/{patient_a.id}/audit/", {"kind": "listed"})

    assert response.status_code == 200
