"""Filters of the clinic's pages typed by hand: a date at the calendar's edge is a 400 with
the form and its error (the CSV: the field and its error), as in the API, never a 500."""

import pytest
from django.test import Client

from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician(clinician_a):
    client = Client()
    client.force_login(clinician_a)
    return client


@pytest.mark.parametrize("field", ["from", "to"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("page", ["/staff/", "/staff/adherence.csv", "patient"])
def test_it_refuses_a_date_at_the_calendars_edge_with_the_form_again(
    clinician, patient_a, page, field, day
):
    PrescriptionFactory(patient=patient_a)
    path = f"/staff/patients/{patient_a.pk}/" if page == "patient" else page

    response = clinician.get(path, {field: day})

    assert response.status_code == 400
    assert "Use a date between 1900-01-01 and 2999-12-31." in response.content.decode()
