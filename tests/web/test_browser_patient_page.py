"""/my/ on a phone, in a real browser: the pain trend fits, a check-in with minutes and a
note is listed at its local time, and one made by mistake is corrected, then withdrawn."""

import os
from datetime import UTC, date, datetime, timedelta

from prescriptions.models import CheckIn, CheckInCorrection
from tests.factories import PASSWORD, CheckInFactory, PrescriptionFactory

SHOTS = os.environ.get("SHOTS_DIR")  # set it to keep screenshots to look at


def sign_in_patient(page, patient):
    page.goto("/my/login/")
    page.get_by_label("Email").fill(patient.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def with_history(patient):
    now = datetime.now(UTC)
    rx = PrescriptionFactory(patient=patient, start_date=date.today() - timedelta(days=30))
    for days_ago in (1, 2, 3, 6, 7, 9):
        CheckInFactory(
            prescription=rx,
            slot="morning",
            performed_at=now - timedelta(days=days_ago),
            pain_before=6 - days_ago % 3,
            pain_after=3,
        )
    return rx


def tap(page, scale: str, value: int):
    page.get_by_role("group", name=scale).get_by_text(str(value), exact=True).click()


def test_the_pain_trend_fits_a_phone_and_reads_as_text(phone_page, patient_a):
    with_history(patient_a)
    sign_in_patient(phone_page, patient_a)

    trend = phone_page.get_by_role("img", name="Your pain before and after your sessions")
    box = trend.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.get_by_text("Pain per day as a table").click()
    assert phone_page.get_by_role("table").get_by_role("row").count() == 1 + 6
    if SHOTS:
        phone_page.screenshot(path=f"{SHOTS}/my-390.png", full_page=True)
        for part in ("pain", "check-in", "your-check-ins", "calendar"):
            phone_page.locator(f"#{part}").screenshot(path=f"{SHOTS}/my-390-{part}.png")


def test_a_mistaken_check_in_is_corrected_then_withdrawn(phone_page, patient_a):
    with_history(patient_a)
    sign_in_patient(phone_page, patient_a)

    phone_page.get_by_label("Which session?").select_option("other")
    tap(phone_page, "How much did your back hurt before?", 7)
    phone_page.get_by_label("Minutes").fill("5")
    phone_page.get_by_label("A note for your clinic").fill("Tapped too fast")
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save my check-in").click()
    made = CheckIn.objects.get(notes="Tapped too fast")
    assert (made.slot, made.pain_before, made.duration_minutes) == ("other", 7, 5)

    listed = phone_page.locator("#your-check-ins li").filter(has_text="Tapped too fast")
    assert "time" in listed.locator(".when").inner_text()  # "…, 09:00 New York time"
    with phone_page.expect_navigation():
        listed.get_by_role("link", name="Correct").click()
    phone_page.get_by_label("Which session?").select_option("morning")
    tap(phone_page, "How much did your back hurt before?", 4)
    if SHOTS:
        phone_page.screenshot(path=f"{SHOTS}/correct-390.png", full_page=True)
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save the correction").click()
    assert phone_page.get_by_text("Your check-in is corrected.").is_visible()
    made.refresh_from_db()
    assert (made.slot, made.pain_before) == ("morning", 4)

    listed = phone_page.locator("#your-check-ins li").filter(has_text="Tapped too fast")
    assert "(corrected)" in listed.inner_text()
    with phone_page.expect_navigation():
        listed.get_by_role("link", name="Correct").click()
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Withdraw this check-in").click()
    assert phone_page.get_by_text("Your check-in is withdrawn").is_visible()
    assert not CheckIn.objects.filter(id=made.id).exists()
    assert CheckInCorrection.objects.filter(check_in_id=made.id).count() == 2


def test_the_page_at_a_laptops_width(page, patient_a):
    with_history(patient_a)
    sign_in_patient(page, patient_a)

    assert page.get_by_role("img", name="Your pain before and after your sessions").is_visible()
    assert page.get_by_role("link", name="Change your password").is_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/my-1280.png", full_page=True)
