"""Drives Chromium through a demo patient's reminder → check-in → progress, saving PNGs
(run by bin/patient-screenshots, against a throwaway copy of the demo data)."""

import os
import re
import sys
from datetime import datetime, timedelta
from email import message_from_string
from html import escape
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from headless import launch, wait_for  # noqa: E402  (bin/headless.py, beside this script)
from playwright.sync_api import sync_playwright  # noqa: E402

from patients.models import Patient  # noqa: E402
from prescriptions import checkins, services  # noqa: E402
from prescriptions.models import CheckIn, Prescription  # noqa: E402
from prescriptions.reminders import reminders_deliver, reminders_tick  # noqa: E402

# The demo patients reminded by email (Oliver's reminders go by text message), spread
# over the day: New York, Kolkata, Sydney.
PATIENTS = ["maya.chen@example.com", "arjun.mehta@example.com", "isla.brown@example.com"]
PASSWORD = "demo-patient-pass"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}


def demo_patient() -> Patient:
    """A demo patient for whom it is now between 05:00 and 22:59 and tonight's session is
    still to do, so that a bedtime session fits in today."""
    for email in PATIENTS:
        patient = Patient.objects.get(email=email)
        local = timezone.now().astimezone(patient.zone)
        done = CheckIn.objects.filter(patient=patient, slot="bedtime", local_date=local.date())
        if 5 <= local.hour <= 22 and not done.exists():
            return patient
    raise SystemExit("no demo patient has tonight's session still to do at this hour")


def send_a_reminder_now(patient: Patient) -> Path:
    """Moves the patient's bedtime to now (so its reminder, heat first, is due a minute
    ago), records this morning's session if the demo history lacks it (as if done from an
    app earlier), and lets the scheduler's tick email the reminder to var/mail/."""
    prescription = Prescription.objects.filter(patient=patient, status="active").first()
    now = timezone.now()
    local = now.astimezone(patient.zone)
    slots = {slot.kind: slot.time for slot in prescription.slots.all()}
    morning = min(slots["morning"], (local - timedelta(minutes=2)).time().replace(second=0))
    bedtime = (local + timedelta(minutes=prescription.heat_minutes - 1)).time().replace(second=0)
    services.prescription_update(
        prescription=prescription,
        slots=[{"kind": "morning", "time": morning}, {"kind": "bedtime", "time": bedtime}],
    )
    if not CheckIn.objects.filter(
        prescription=prescription, slot="morning", local_date=local.date()
    ).exists():
        checkins.checkin_record(
            prescription=prescription,
            slot="morning",
            performed_at=datetime.combine(local.date(), morning, tzinfo=patient.zone),
            pain_before=4,
            pain_after=3,
        )
    mail = Path(settings.EMAIL_FILE_PATH)
    before = set(mail.glob("*.log")) if mail.exists() else set()
    reminders_tick(deliver=lambda ids: reminders_deliver(reminder_ids=ids))
    [sent] = set(mail.glob("*.log")) - before
    return sent


def email_page(raw: str) -> str:
    """The email as a mail app would show it: its headers, then its HTML part."""
    message = message_from_string(raw)
    html = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/html"
    )
    head = "".join(
        f"<div><b>{name}:</b> {escape(message[name])}</div>"
        for name in ("From", "To", "Subject", "List-Unsubscribe")
    )
    return (
        '<html><body style="font:15px system-ui;margin:12px">'
        f'<div style="border-bottom:1px solid #ccc;padding-bottom:8px;word-break:break-all">'
        f"{head}</div>{html}</body></html>"
    )


def main(url: str, out: Path) -> None:
    wait_for(url)
    patient = demo_patient()
    sent = send_a_reminder_now(patient)
    raw = sent.read_text()
    (out / "patient-reminder-email.eml").write_text(raw)
    link = re.search(r"http://\S+/c/\S+/", raw).group(0)
    print(f"reminder email: {sent} (copied to {out / 'patient-reminder-email.eml'})")
    print(f"check-in link: {link}")

    shots = []
    with sync_playwright() as p:
        browser = launch(p)
        phone = browser.new_context(is_mobile=True, has_touch=True, **PHONE)
        page = phone.new_page()

        def shot(name: str, *, full: bool = True) -> None:
            file = out / f"{name}.png"
            page.screenshot(path=str(file), full_page=full)
            shots.append(file)

        page.goto(f"{url}/my/login/")
        page.get_by_label("Email").fill(patient.email)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        before = page.get_by_test_id("streak").inner_text()
        shot("patient-1-page-before", full=False)

        page.set_content(email_page(raw))
        shot("patient-2-reminder-email")

        page.goto(link)
        shot("patient-3-checkin-link")
        for scale, value in (("How much did your back hurt before?", "4"), ("And after", "2")):
            page.get_by_role("group", name=scale).get_by_text(value, exact=True).click()
        page.get_by_label("I used heat first").check()
        page.get_by_role("button", name="Save my check-in").scroll_into_view_if_needed()
        shot("patient-4-two-taps", full=False)
        with page.expect_navigation():
            page.get_by_role("button", name="Save my check-in").click()
        shot("patient-5-checked-in")

        page.goto(link)
        shot("patient-6-same-link-again")

        page.goto(f"{url}/my/")
        after = page.get_by_test_id("streak").inner_text()
        shot("patient-7-page-after", full=False)
        page.goto(f"{url}/my/")
        shot("patient-8-whole-page")
        browser.close()
    print(f"{patient.first_name}'s streak: {before} before, {after} after the check-in")
    for file in shots:
        print(file)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
