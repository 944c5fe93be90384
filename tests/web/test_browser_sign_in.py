"""The clinic table in a real browser: a clinician signs in and finds their patients."""

from tests.browser import sign_in


def test_it_signs_a_clinician_in_and_shows_the_clinic_table(page, clinician_a, patient_a):
    sign_in(page, clinician_a.username)

    assert page.url.endswith("/staff/")
    table = page.get_by_role("table", name="One row per patient")
    assert table.get_by_text("Ada Moss").is_visible()


def test_it_keeps_a_patient_out_of_the_clinic_pages(page, patient_a):
    sign_in(page, patient_a.user.username)

    assert "/staff/login/" in page.url
    assert page.get_by_text("for clinicians and clinic staff").is_visible()


def test_it_fits_the_clinic_table_page_on_a_phone(phone_page, clinician_a, patient_a):
    sign_in(phone_page, clinician_a.username)

    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
