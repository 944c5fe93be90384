"""An address with nothing at it answers the product's own 404 page, with DEBUG on (the
demo) as with it off: never Django's technical page listing the site's URL patterns; JSON
under /api/; a path missing its slash still finds the page with it."""

import pytest
from django.test import Client

from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db

TECHNICAL = ("URLconf", "Django tried these URL patterns", "DEBUG = True", "Page not found at")


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def assert_product_page(response):
    page = response.content.decode()
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "There is no page here" in page
    for words in TECHNICAL:
        assert words not in page


@pytest.mark.parametrize("path", ["/staff/nothing-here/", "/my/nothing/", "/no-such-page"])
def test_a_path_nothing_answers_gets_the_products_page(debug, path):
    assert_product_page(Client().get(path))


def test_a_patient_path_links_back_to_the_patients_page(debug):
    assert 'href="/my/"' in Client().get("/my/nothing/").content.decode()


def test_a_view_that_finds_nothing_gets_the_products_page(debug, staff_a, patient_b):
    # Another clinic's patient: a 404 raised by the view itself.
    assert_product_page(signed_in(staff_a).get(f"/staff/patients/{patient_b.id}/"))
    assert_product_page(signed_in(staff_a).get("/staff/patients/999999/"))


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/patients/999999/", "/api/x"])
def test_the_api_still_answers_json(debug, clinician_a, path):
    response = client_for(clinician_a).get(path)

    assert response.status_code == 404
    assert list(response.json()) == ["detail"]


@pytest.mark.parametrize(("path", "to"), [("/staff", "/staff/"), ("/my/login", "/my/login/")])
def test_a_path_missing_its_slash_is_still_sent_to_the_page(debug, path, to):
    response = Client().get(path)

    assert response.status_code == 301
    assert response["Location"] == to
