"""A forgotten password in a real browser: from the sign-in page to the emailed link to
signed in with the new password."""

import re

from django.core import mail

from tests.browser import sign_in

NEW_PASSWORD = "swaying-knees-at-dawn"


def test_it_takes_a_clinician_from_a_forgotten_password_to_signed_in(
    page, clinician_a, live_server, settings
):
    settings.SITE_URL = live_server.url
    page.goto("/staff/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill(clinician_a.email)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_text("If this address belongs to an account").wait_for()

    (message,) = mail.outbox
    link = re.search(r"http://\S+/reset/\S+/", message.body).group(0)
    page.goto(link)

    assert page.url.endswith("/set-password/"), "the token left the address bar"
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Set my new password").click()

    assert page.url.endswith("/staff/login/")
    assert page.get_by_text("every phone and computer").is_visible()
    sign_in(page, clinician_a.username, NEW_PASSWORD)
    assert page.url.endswith("/staff/")
