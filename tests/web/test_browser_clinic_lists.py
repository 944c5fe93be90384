"""The clinic table in a real browser: a long one-word name wraps in its cell."""

import pytest

from tests.browser import sign_in
from tests.factories import PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_long_one_word_name_wraps_instead_of_pushing_columns_off_screen(
    page, staff_a, clinic_a, width
):
    PrescriptionFactory(patient=PatientFactory(clinic=clinic_a, first_name="Ada", last_name=LONG))
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, staff_a.username)

    page.goto("/staff/")

    box = page.locator("#clinic-table").locator("xpath=..")
    cell = page.locator("td.name").first.bounding_box()
    assert cell["width"] < width / 2
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width >= 1280:  # room for every column: nothing to scroll to
        assert box.evaluate("el => el.scrollWidth <= el.clientWidth")
