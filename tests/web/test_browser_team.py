"""The team in a real browser: a clinician invites a colleague, who joins from the email's
link; the clinician deactivates them and the colleague's open page goes to the sign-in page
on their next click."""

import re

from django.core import mail
from playwright.sync_api import expect

from tests.browser import sign_in

PASSWORD = "rock-gently-each-night"


def _new_tab(page):
    """A second browser of its own (no shared cookies): the colleague's."""
    context = page.context.browser.new_context(base_url=page.url.split("/staff/")[0])
    return context, context.new_page()


def test_a_clinician_invites_a_colleague_who_joins_and_is_later_deactivated(page, clinician_a):
    sign_in(page, clinician_a.username)
    page.get_by_role("navigation", name="Clinic").get_by_role("link", name="Team").click()
    invite = page.locator("#invite")
    invite.get_by_label("First name").fill("Rae")
    invite.get_by_label("Last name").fill("Quinn")
    invite.get_by_label("Email").fill("rae@example.test")
    invite.get_by_label("Role").select_option("staff")
    invite.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to rae@example.test")

    [message] = mail.outbox
    link = re.search(r"https?://\S+/join/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    context, colleague = _new_tab(page)
    try:
        colleague.goto(f"/{path}")
        expect(colleague.get_by_role("heading", name="Join Riverside Back Clinic")).to_be_visible()
        expect(colleague.get_by_text("as a staff member")).to_be_visible()
        colleague.get_by_label("Choose a password").fill(PASSWORD)
        colleague.get_by_label("The same password again").fill(PASSWORD)
        with colleague.expect_navigation():
            colleague.get_by_role("button", name="Join and sign in").click()
        assert colleague.url.endswith("/staff/")
        expect(colleague.get_by_text("Welcome to Riverside Back Clinic")).to_be_visible()

        page.reload()
        page.get_by_role("link", name="Deactivate Rae Quinn").click()
        page.get_by_role("button", name="Yes, deactivate").click()
        expect(page.get_by_role("status")).to_contain_text("Rae Quinn is deactivated")

        colleague.get_by_role("navigation", name="Clinic").get_by_role("link", name="Team").click()
        assert "/staff/login/" in colleague.url
        expect(colleague.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        context.close()


def test_the_team_page_fits_a_phone(phone_page, clinician_a, staff_a):
    sign_in(phone_page, clinician_a.username)
    phone_page.goto("/staff/team/")

    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
