"""`?format=` in the URL decides the answer's format; credentials are checked before it."""

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ADHERENCE = "/api/v1/adherence/"


def test_it_answers_csv_when_the_url_asks_for_it_whatever_the_accept_header(clinician_a):
    response = client_for(clinician_a).get(
        ADHERENCE, {"format": "csv"}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_it_answers_json_when_the_url_asks_for_it_whatever_the_accept_header(clinician_a):
    response = client_for(clinician_a).get(ADHERENCE, {"format": "json"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("accept", ["application/json", "text/csv", "*/*"])
def test_it_asks_for_credentials_before_looking_at_the_format(anon, accept):
    response = anon.get(ADHERENCE, {"format": "csv"}, HTTP_ACCEPT=accept)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_it_asks_for_credentials_before_refusing_an_unknown_format(anon):
    response = anon.get("/api/v1/patients/", {"format": "xlsx"})

    assert response.status_code == 401


def test_it_refuses_a_role_before_refusing_an_unknown_format(patient_a):
    response = client_for(patient_a.user).get(ADHERENCE, {"format": "xlsx"})

    assert response.status_code == 403


def test_it_refuses_a_format_the_endpoint_does_not_have_naming_it(clinician_a):
    response = client_for(clinician_a).get("/api/v1/patients/", {"format": "csv"})

    assert response.status_code == 400
    assert "json" in response.json()["format"][0]


def test_it_still_signs_in_with_a_format_in_the_url(anon, clinician_a):
    clinician_a.set_password("a-good-long-password")
    clinician_a.save()

    response = anon.post(
        "/api/v1/auth/token/?format=json",
        {"username": clinician_a.username, "password": "a-good-long-password"},
    )

    assert response.status_code == 200
