"""Requests no honest browser sends still get the product's own page (400, 403, 404, 413,
500) with a link back, never a 500 or Django's built-in or debug page; under /api/ the
answer stays JSON."""

import pytest
from django.test import Client, RequestFactory

from clinic.errors import server_error
from prescriptions.models import CheckIn, Prescription
from tests.conftest import signed_in
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db

THREE_MB = "x" * 3_000_000


def assert_product_page(response, status: int, *texts: str):
    page = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert "staff/staff.css" in page  # the product's own page, not Django's
    assert "<script" not in page and "style=" not in page  # the CSP allows neither
    for text in texts:
        assert text in page


def test_it_refuses_a_nul_in_the_clinic_search_with_a_page_naming_it(clinician_a):
    response = signed_in(clinician_a).get("/staff/", {"q": "\x00x"})

    assert_product_page(response, 400, "“q”", "NUL", 'href="/staff/"')


def test_it_refuses_a_nul_in_a_form_field_before_the_sign_in_reads_it():
    response = Client().post("/my/login/", {"email": "a\x00@example.test", "password": "pw"})

    assert_product_page(response, 400, "“email”", 'href="/my/"')


def test_it_answers_a_page_413_to_a_form_over_the_size_limit(patient_a):
    prescription = PrescriptionFactory(patient=patient_a)

    response = signed_in(patient_a.user).post("/my/check-in/", {"notes": THREE_MB})

    assert_product_page(response, 413, "too large", 'href="/my/"')
    assert not CheckIn.objects.filter(prescription=prescription).exists()


def test_it_answers_413_not_the_debug_page_even_with_debug_on(settings):
    settings.DEBUG = True

    response = Client().post("/staff/login/", {"username": THREE_MB, "password": "pw"})

    assert_product_page(response, 413, "too large")


def test_it_answers_the_400_page_to_a_form_with_thousands_of_fields():
    fields = {f"field{n}": "x" for n in range(1200)}

    assert_product_page(Client().post("/staff/login/", fields), 400, 'href="/staff/"')


@pytest.mark.parametrize(
    "path", ["/staff/%0Aabc", "/staff/patients/1/%00", "/c/%00abc/", "/my/%0D%0A", "/nowhere/"]
)
def test_it_answers_the_product_404_page_to_a_path_no_page_has(clinician_a, path):
    assert_product_page(signed_in(clinician_a).get(path), 404, "Nothing is at this address")


@pytest.mark.parametrize(
    ("path", "home"),
    [
        ("/staff/nowhere/", "/staff/"),
        ("/staff/patients/abc/", "/staff/"),
        ("/my/nowhere/", "/my/"),
        ("/my/login/nowhere", "/my/"),
        ("/nowhere", "/staff/"),
    ],
)
def test_it_answers_the_product_404_page_in_production_to_a_visitor_not_signed_in(
    settings, path, home
):
    settings.DEBUG = False  # as in production: never Django's own "Page not found"

    response = Client().get(path)

    assert_product_page(response, 404, "Nothing is at this address", f'href="{home}"')


def test_it_answers_the_product_404_page_for_an_object_no_one_has(settings, clinician_a):
    settings.DEBUG = False

    for path in ("/staff/patients/999999/", "/staff/prescriptions/999999/plan/"):
        assert_product_page(signed_in(clinician_a).get(path), 404, "Nothing is at this address")


def test_it_sends_a_patient_back_to_their_own_page_from_a_404(patient_a):
    assert_product_page(signed_in(patient_a.user).get("/my/nowhere/"), 404, 'href="/my/"')


def test_it_answers_the_product_403_page_to_staff_changing_a_prescription(staff_a, patient_a):
    prescription = PrescriptionFactory(patient=patient_a)

    response = signed_in(staff_a).post(f"/staff/prescriptions/{prescription.id}/pause/")

    assert_product_page(response, 403, "no access")
    prescription.refresh_from_db()
    assert prescription.status == Prescription.Status.ACTIVE


def test_it_explains_a_form_refused_for_its_security_token():
    response = Client(enforce_csrf_checks=True).post("/staff/login/", {"username": "a"})

    assert_product_page(response, 403, "The form had expired", "Nothing was saved")


def test_it_keeps_a_csrf_refusal_under_the_api_in_json():
    response = Client(enforce_csrf_checks=True).post("/api/v1/nowhere/", {"a": "b"})

    assert response["Content-Type"] == "application/json"


def test_it_answers_the_product_500_page_when_something_breaks():
    response = server_error(RequestFactory().get("/staff/patients/1/"))

    assert_product_page(response, 500, "Something went wrong on our side")


def test_it_keeps_api_refusals_in_json(clinician_a):
    response = Client().post("/api/v1/auth/token/", {"username": THREE_MB}, "application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
