import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_it_shows_the_team_their_clinic(staff_a, clinic_a):
    response = client_for(staff_a).get("/api/v1/clinic/")

    assert response.status_code == 200
    assert response.data == {
        "name": "Riverside Back Clinic",
        "slug": "riverside",
        "timezone": "America/New_York",
        "require_second_factor": False,
    }


def test_it_lets_a_clinician_require_a_second_factor(clinician_a, clinic_a):
    response = client_for(clinician_a).patch("/api/v1/clinic/", {"require_second_factor": True})

    assert response.status_code == 200
    assert response.data["require_second_factor"] is True
    clinic_a.refresh_from_db()
    assert clinic_a.require_second_factor


def test_it_lets_a_clinician_rename_the_clinic_and_change_its_zone(clinician_a, clinic_a):
    response = client_for(clinician_a).patch(
        "/api/v1/clinic/", {"name": "Riverside Spine", "timezone": "Europe/Dublin"}
    )

    assert response.status_code == 200
    clinic_a.refresh_from_db()
    assert (clinic_a.name, clinic_a.timezone) == ("Riverside Spine", "Europe/Dublin")


def test_it_refuses_staff_changing_the_clinic(staff_a, clinic_a):
    response = client_for(staff_a).patch("/api/v1/clinic/", {"require_second_factor": True})

    assert response.status_code == 403
    clinic_a.refresh_from_db()
    assert not clinic_a.require_second_factor


def test_it_refuses_patients(patient_a):
    assert client_for(patient_a.user).get("/api/v1/clinic/").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "elsewhere"},
        {"timezone": "Mars/Olympus"},
        {"require_second_factor": "yes"},
        {"name": ""},
    ],
)
def test_it_refuses_bad_input_naming_the_field(clinician_a, clinic_a, body):
    response = client_for(clinician_a).patch("/api/v1/clinic/", body)

    assert response.status_code == 400
    assert set(response.data) == set(body)
    clinic_a.refresh_from_db()
    assert clinic_a.slug == "riverside"


def test_it_changes_only_the_callers_clinic(clinician_b, clinic_a, clinic_b):
    client_for(clinician_b).patch("/api/v1/clinic/", {"name": "Hilltop Renamed"})

    clinic_a.refresh_from_db()
    clinic_b.refresh_from_db()
    assert clinic_a.name == "Riverside Back Clinic"
    assert clinic_b.name == "Hilltop Renamed"
