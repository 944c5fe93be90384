"""The second factor in a real browser, on the real clock: a clinician sets one up by typing
the key shown on the page (as into an app, scanning nothing), signs out, and signs in again
with the password and then the code; a clinic that requires one leads a newcomer to set it
up first."""

from tests.browser import sign_in
from tests.factories import ClinicianFactory
from tests.second_factor import code, secret_typed


def set_up_second_factor(page) -> bytes:
    """From the account page, as a person would; the key read off the page."""
    page.goto("/staff/account/")
    with page.expect_navigation():
        page.get_by_role("button", name="Set up a second factor").click()
    key = secret_typed(page.locator("#secret").inner_text())
    page.get_by_label("6-digit code from your app").fill(code(key))
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on the second factor").click()
    return key


def test_a_clinician_sets_it_up_and_signs_in_with_it(page, clinician_a):
    sign_in(page, clinician_a.username)

    key = set_up_second_factor(page)
    assert page.get_by_role("heading", name="Your second factor is on").is_visible()
    assert page.locator("#recovery-codes li").count() == 10
    with page.expect_navigation():
        page.get_by_role("link", name="I have kept them: continue").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    sign_in(page, clinician_a.username)
    assert page.url.endswith("/staff/login/code/")
    # The code that turned it on is spent; the app's next one is accepted already.
    page.get_by_label("Code from your app").fill(code(key, steps_ahead=1))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    assert page.url.endswith("/staff/")
    page.goto("/staff/account/")
    assert page.get_by_text("10 recovery codes left").is_visible()


def test_a_required_clinic_leads_a_new_clinician_straight_to_setup(phone_page, clinic_a):
    clinic_a.require_second_factor = True
    clinic_a.save()
    newcomer = ClinicianFactory(clinic=clinic_a)

    sign_in(phone_page, newcomer.username)

    assert phone_page.url.endswith("/staff/account/second-factor/")
    assert phone_page.get_by_text("requires a second factor").is_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.goto("/staff/")
    assert phone_page.url.endswith("/staff/account/second-factor/")

    key = secret_typed(phone_page.locator("#secret").inner_text())
    phone_page.get_by_label("6-digit code from your app").fill(code(key))
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Turn on the second factor").click()
    with phone_page.expect_navigation():
        phone_page.get_by_role("link", name="I have kept them: continue").click()
    assert phone_page.url.endswith("/staff/")
