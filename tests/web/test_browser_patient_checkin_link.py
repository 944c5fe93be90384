"""The reminder's check-in link on a 390 by 844 phone: "two taps" holds, Save in sight once
the pain before is chosen, and the warning signs stay on the page, clear of the Save bar."""

import os

from prescriptions.models import CheckIn
from prescriptions.reminders import links
from tests.browser import PHONE
from tests.web.test_browser_checkin_link import tap, todays_reminder

SHOTS = os.environ.get("SHOTS_DIR")  # set it to keep screenshots to look at


def save_box(page) -> dict:
    return page.get_by_role("button", name="Save my check-in").bounding_box()


def on_top(page, box) -> bool:
    """Whether the button itself, not something laid over it, is at the box's centre."""
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    return (
        page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.textContent.trim()",
            [x, y],
        )
        == "Save my check-in"
    )


def test_save_is_in_sight_once_the_pain_before_is_chosen(phone_page, patient_a):
    reminder = todays_reminder(patient_a, slot="bedtime")
    phone_page.goto(f"/c/{links.checkin_token(reminder.id)}/")

    tap(phone_page, "How much did your back hurt before?", 6)  # the first tap

    box = save_box(phone_page)
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    assert on_top(phone_page, box)
    if SHOTS:
        phone_page.screenshot(path=f"{SHOTS}/link-390.png")
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save my check-in").click()  # the second
    assert phone_page.get_by_text("Your bedtime session is saved").is_visible()
    assert CheckIn.objects.get().pain_before == 6


def test_the_warning_signs_stay_on_the_page_and_clear_of_the_save_bar(phone_page, patient_a):
    reminder = todays_reminder(patient_a)
    phone_page.goto(f"/c/{links.checkin_token(reminder.id)}/")
    last_sign = phone_page.get_by_label("Bad pain at night that no position eases")

    last_sign.focus()  # by keyboard: the page scrolls it into view, not under the bar
    sign_box = phone_page.locator("label[for=flag_night_pain_constant]").bounding_box()
    bar_box = save_box(phone_page)
    assert sign_box["y"] + sign_box["height"] <= bar_box["y"], (sign_box, bar_box)
    phone_page.keyboard.press("Space")
    assert last_sign.is_checked()
