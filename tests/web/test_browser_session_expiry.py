"""A clinician leaves the clinic table open; a quarter of an hour later the next click finds
the session ended, says why, and signing in again returns to the same view."""

from datetime import timedelta

import time_machine

from tests.browser import sign_in
from tests.factories import PASSWORD


def test_an_idle_session_ends_and_returns_to_the_same_view_after_signing_in(
    page, clinician_a, patient_a
):
    with time_machine.travel("2026-05-01T09:00:00Z", tick=True) as clock:
        sign_in(page, clinician_a.username)
        page.goto("/staff/?q=Moss")
        clock.shift(timedelta(minutes=16))

        page.goto("/staff/?q=Moss&ordering=name")

        assert "/staff/login/" in page.url
        assert page.get_by_text("Nothing happened for 15 minutes").is_visible()
        page.get_by_label("Username").fill(clinician_a.username)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()

    assert page.url.endswith("/staff/?q=Moss&ordering=name")
    assert page.get_by_text("Ada Moss").first.is_visible()
