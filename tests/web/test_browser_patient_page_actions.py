"""What a clinician does on a patient's page, in a real browser: change the plan and read it
in the history, end and archive with a reason, correct the contact details."""

import pytest
from playwright.sync_api import expect

from clinic.models import AuditEntry
from patients.models import ReminderPreference
from prescriptions.models import Prescription, Reminder
from tests.browser import sign_in
from tests.factories import PatientFactory, PrescriptionFactory


def open_page(page, clinician, patient):
    sign_in(page, clinician.username)
    page.goto(f"/staff/patients/{patient.id}/")


def test_a_plan_change_shows_in_the_history_before_and_after(page, clinician_a, patient_a):
    PrescriptionFactory(patient=patient_a, heat_prep=False)
    open_page(page, clinician_a, patient_a)

    page.get_by_role("link", name="Change plan").click()
    page.get_by_label("Bedtime time").fill("21:30")
    page.get_by_label("Heat first").check()
    page.get_by_role("button", name="Save").click()

    history = page.locator("#prescription ol.history")
    expect(history).to_contain_text("Plan changed")
    expect(history).to_contain_text(
        "Times: bedtime 22:00, morning 07:00 → bedtime 21:30, morning 07:00"
    )
    expect(history).to_contain_text("Heat first: no → yes")
    who = clinician_a.get_full_name() or clinician_a.username
    expect(history.locator("> li").last).to_contain_text(who)


def test_ending_asks_for_a_reason_and_the_history_keeps_it(page, clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    open_page(page, clinician_a, patient_a)

    page.get_by_role("link", name="End…").click()
    page.get_by_role("button", name="End the prescription").click()
    expect(page.get_by_text("Say why, for the prescription's history.")).to_be_visible()
    rx.refresh_from_db()
    assert rx.status == Prescription.Status.ACTIVE  # not ended on one click

    page.get_by_label("Reason").fill("Pain gone, discharged")
    page.get_by_role("button", name="End the prescription").click()

    expect(page.get_by_role("status")).to_contain_text("is ended.")
    expect(page.locator("#prescription ol.history")).to_contain_text("Pain gone, discharged")
    rx.refresh_from_db()
    assert rx.status == Prescription.Status.ENDED


def test_archiving_asks_for_a_reason_and_offers_no_prescribing_after(page, clinician_a, patient_a):
    open_page(page, clinician_a, patient_a)
    expect(page.get_by_role("link", name="Prescribe knee rocks").first).to_be_visible()

    page.get_by_role("link", name="Archive…").click()
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_text("Say why the patient leaves the clinic's care.")).to_be_visible()
    patient_a.refresh_from_db()
    assert patient_a.archived_at is None

    page.get_by_label("Reason").fill("Moved to another city")
    page.get_by_role("button", name="Archive").click()

    expect(page.locator(".archived-note")).to_contain_text("Moved to another city")
    expect(page.get_by_role("link", name="Prescribe knee rocks")).to_have_count(0)
    assert "/prescribe/" not in page.content()


def test_a_clinician_corrects_the_contact_details_and_reminder_channel(
    page, clinician_a, patient_a
):
    open_page(page, clinician_a, patient_a)

    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Phone").fill("+61 400 000 111")
    page.get_by_label("Time zone").select_option("Australia/Sydney")
    page.get_by_label("Reminders by").select_option("sms")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("were saved")
    patient_a.refresh_from_db()
    assert (patient_a.phone, patient_a.timezone) == ("+61 400 000 111", "Australia/Sydney")
    assert patient_a.reminder_preference.channel == ReminderPreference.Channel.SMS
    assert AuditEntry.objects.filter(
        patient_id=patient_a.id, action="update", path=f"/staff/patients/{patient_a.id}/edit/"
    ).exists()
    expect(page.locator(".page-head")).to_contain_text("Sydney time")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("Phone", "call me", "Enter a phone number"),
        ("Email", "taken@example.test", "already in use"),
    ],
)
def test_a_bad_detail_is_named_beside_its_field(
    page, clinician_a, patient_a, field, value, message
):
    PatientFactory(clinic=patient_a.clinic, email="taken@example.test")
    sign_in(page, clinician_a.username)

    response = page.goto(f"/staff/patients/{patient_a.id}/edit/")
    page.get_by_label(field, exact=True).fill(value)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save").click()

    assert response.ok and posted.value.status == 400
    expect(page.get_by_label(field, exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field.invalid")).to_contain_text(message)


def test_texts_cannot_be_chosen_without_a_phone_number(page, clinician_a, patient_a):
    sign_in(page, clinician_a.username)
    page.goto(f"/staff/patients/{patient_a.id}/edit/")

    page.get_by_label("Reminders by").select_option("sms")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".field.invalid")).to_contain_text("Add a phone number")
    assert not ReminderPreference.objects.filter(patient=patient_a, channel="sms").exists()


def test_the_delivery_problems_page_leads_to_the_contact_details(page, clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    Reminder.objects.create(
        prescription=rx,
        slot="morning",
        local_date=rx.start_date,
        fire_at=rx.created_at,
        channel="email",
        status="failed",
        reason="Mailbox full",
    )
    sign_in(page, clinician_a.username)
    page.goto("/staff/deliveries/")

    page.get_by_role("link", name="Check the contact details").click()

    expect(page.get_by_role("heading", name="Contact details and reminders")).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_have_value(patient_a.email)
