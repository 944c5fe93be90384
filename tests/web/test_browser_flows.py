"""The clinic team's day in a real browser: filter, open a patient, act, download."""

import codecs
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from prescriptions.models import Alert, Prescription
from tests.browser import sign_in
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory


@pytest.fixture
def clinic(clinic_a, patient_a, other_patient):
    """Ada keeps to her sessions; Ben has an open alert."""
    today = date.today()
    ada = PrescriptionFactory(patient=patient_a, start_date=today - timedelta(days=20))
    PrescriptionFactory(patient=other_patient, start_date=today - timedelta(days=20))
    for days_ago in range(1, 6):
        at = datetime.now(UTC) - timedelta(days=days_ago)
        CheckInFactory(prescription=ada, slot="morning", performed_at=at, pain_before=6)
    Alert.objects.create(
        patient=other_patient, kind="no_check_in", details={"message": "No check-in for 3 days."}
    )
    return {"ada": patient_a, "ben": other_patient, "ada_rx": ada}


def names(page):
    return page.locator("#clinic-table tbody td.name a")


def test_a_clinician_filters_opens_a_patient_and_acts(page, clinician_a, clinic):
    sign_in(page, clinician_a.username)
    expect(names(page)).to_have_text(["Ben Lowe", "Ada Moss"])

    page.get_by_role("navigation", name="Quick filters").get_by_role(
        "link", name="Open alerts"
    ).click()
    expect(names(page)).to_have_text(["Ben Lowe"])
    page.get_by_label("Search").fill("ada")
    page.get_by_label("Show").select_option("")
    page.get_by_role("button", name="Apply").click()
    expect(names(page)).to_have_text(["Ada Moss"])

    page.get_by_role("link", name="Ada Moss").click()
    page.get_by_label("From", exact=True).fill((date.today() - timedelta(days=13)).isoformat())
    page.get_by_label("To", exact=True).fill(date.today().isoformat())
    page.get_by_role("button", name="Show range").click()
    chart = page.locator("#adherence-chart")
    expect(chart.locator("g.day")).to_have_count(14)
    assert chart.get_attribute("role") == "img"

    page.get_by_role("button", name="Pause now").click()
    expect(page.get_by_role("status")).to_contain_text("is paused.")
    page.get_by_role("button", name="Resume now").click()
    expect(page.get_by_role("status")).to_contain_text("is resumed.")
    clinic["ada_rx"].refresh_from_db()
    assert clinic["ada_rx"].status == Prescription.Status.ACTIVE
    assert clinic["ada_rx"].status_changes.count() == 3


def test_a_clinician_acknowledges_an_alert_with_a_note(page, clinician_a, clinic):
    sign_in(page, clinician_a.username)
    page.get_by_role("link", name="Ben Lowe").first.click()

    page.get_by_label("Note on alert for Ben Lowe").fill("Phoned him; back on track")
    page.get_by_role("button", name="Acknowledge").click()

    expect(page.get_by_role("status")).to_contain_text("acknowledged")
    expect(page.get_by_text("Phoned him; back on track")).to_be_visible()
    alert = Alert.objects.get()
    assert alert.note == "Phoned him; back on track" and alert.acknowledged_by == clinician_a


def test_a_clinician_does_it_all_by_keyboard(page, clinician_a, clinic):
    sign_in(page, clinician_a.username)
    page.goto(f"/staff/patients/{clinic['ada'].id}/")

    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Pause now":
            break
    else:
        pytest.fail("Pause now cannot be reached with the Tab key")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/patients/{clinic['ada'].id}/")

    expect(page.get_by_role("status")).to_contain_text("is paused")


def test_staff_find_no_action_and_download_the_csv(page, staff_a, clinic):
    sign_in(page, staff_a.username)

    assert page.locator("main button, main form[method=post]").count() == 1  # Apply
    assert page.get_by_role("link", name="Enrol a patient").count() == 0
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("adherence-riverside-")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # for spreadsheets (the API's CSV has none)
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("patient,first_name,last_name")
    assert "Moss" in text and "Lowe" in text

    page.get_by_role("link", name="Ada Moss").click()
    expect(page.get_by_role("heading", name="Ada Moss")).to_be_visible()
    assert page.locator("main form[method=post]").count() == 0
    assert page.locator("main button").all_inner_texts() == ["Show range"]


@pytest.mark.parametrize("where", ["table", "patient"])
def test_every_action_fits_a_phone_screen(phone_page, clinician_a, clinic, where):
    sign_in(phone_page, clinician_a.username)
    if where == "patient":
        phone_page.goto(f"/staff/patients/{clinic['ben'].id}/")

    controls = phone_page.locator("button:visible, a.button:visible, input:visible, select:visible")
    assert controls.count() > 3
    for i in range(controls.count()):
        box = controls.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, controls.nth(i).inner_html()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_api_docs_work_under_the_content_security_policy(page):
    violations = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security" in msg.text else None,
    )

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Knee Rocks")
    assert page.locator(".opblock").count() > 10
    assert violations == []


def test_a_patient_is_kept_out_of_a_patient_page(page, clinic):
    page.goto(f"/staff/patients/{clinic['ada'].id}/")
    assert "/staff/login/" in page.url

    sign_in(page, clinic["ada"].user.username)

    expect(page.get_by_text("for clinicians and clinic staff")).to_be_visible()
    assert "/staff/login/" in page.url


def test_a_clinician_enrols_and_prescribes(page, clinician_a):
    sign_in(page, clinician_a.username)
    page.get_by_role("navigation", name="Clinic").get_by_role(
        "link", name="Enrol a patient"
    ).click()
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Kim")
    page.get_by_label("Email").fill("nora.kim@example.com")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Enrol").click()

    expect(page.locator("#activation-code")).to_have_text(re.compile(r"^[A-Z0-9]{5}-[A-Z0-9]{5}$"))
    page.get_by_role("link", name="Prescribe knee rocks").first.click()
    page.get_by_label("Bedtime time").fill("21:30")
    page.get_by_label("Heat first").check()
    page.get_by_role("button", name="Prescribe").click()

    expect(page.get_by_role("status")).to_contain_text("prescribed")
    rx = PatientFactory._meta.model.objects.get(email="nora.kim@example.com").prescriptions.get()
    assert rx.heat_prep
    assert {s.kind: s.time.strftime("%H:%M") for s in rx.slots.all()}["bedtime"] == "21:30"


def test_the_admin_works_under_the_content_security_policy(page, clinic):
    from clinic.models import User

    User.objects.create_superuser("root", "root@example.test", "a-long-admin-pass")
    violations = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security" in msg.text else None,
    )

    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("a-long-admin-pass")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/prescriptions/checkin/")
    page.get_by_role("link", name="Slot").first.click()  # sorted by a column: its script runs

    expect(page.locator("#result_list")).to_be_visible()
    assert violations == []
