"""Paths under /api/v1/ that name nothing answer a JSON 404, whoever asks."""

import pytest

from patients.models import Patient
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["patients/-1/", "check-ins/abc/", "prescriptions/1.5/schedule/", "nothing-here/"]
)
def test_it_answers_json_for_a_path_that_names_nothing(clinician_a, path):
    response = client_for(clinician_a).get(f"/api/v1/{path}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("method", ["post", "patch"])
def test_it_points_a_write_to_the_path_with_its_slash_instead_of_redirecting(clinician_a, method):
    response = getattr(client_for(clinician_a), method)("/api/v1/patients")

    assert response.status_code == 404
    assert "/api/v1/patients/" in response.json()["detail"]
    assert not Patient.objects.exists()


def test_it_answers_json_to_a_write_from_a_token_client_without_a_csrf_cookie(clinician_a):
    client = client_for(clinician_a)
    client.enforce_csrf_checks = True
    client.handler.enforce_csrf_checks = True

    response = client.post("/api/v1/alerts/null,null/acknowledge/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_still_redirects_a_read_missing_its_slash(clinician_a):
    response = client_for(clinician_a).get("/api/v1/me")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/me/"
