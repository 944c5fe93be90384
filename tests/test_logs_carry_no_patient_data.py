"""Logs carry no patient data: a whole patient's journey, logged at DEBUG, names nobody.

Enrolment, activation, a check-in with notes and a warning sign, reminders by email and by
a webhook that fails, a refused request and the patient's export: every log line written
on the way is searched for the patient's name, email, phone, notes, symptoms and secrets.
Password resets likewise, for the link, its token and the passwords; invitations and second
factors for their tokens, keys and codes.
"""

import base64
import logging
import re
import smtplib
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone
from django_otp.oath import totp
from rest_framework.test import APIClient

from patients.models import Patient, ReminderPreference
from prescriptions.models import Reminder
from prescriptions.reminders import links
from prescriptions.reminders.deliver import reminders_deliver
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

FIRST, LAST = "Zephyrine", "Quillfeather"
EMAIL = "zephyrine.quill@example.test"
PHONE = "+44 7700 900123"
NOTES = "Twinge behind the left kneecap after gardening"
PASSWORD = "rocking-by-moonlight-42"
NEW_PASSWORD = "moonlit-knee-rocks-77"
WEBHOOK_SECRET_PATH = "hooks/T0SECRETPATH9a8b7c"


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    return caplog


def test_a_patients_whole_journey_logs_none_of_their_data(
    logs, clinician_a, staff_a, settings, monkeypatch
):
    settings.WEBHOOKS_ALLOW_LOCAL = True
    doctor = client_for(clinician_a)

    # Enrolment, with a first attempt the API refuses (a 400 is logged by Django).
    doctor.post("/api/v1/patients/", {"first_name": FIRST, "email": EMAIL})
    enrolled = doctor.post(
        "/api/v1/patients/",
        {
            "first_name": FIRST,
            "last_name": LAST,
            "email": EMAIL,
            "phone": PHONE,
            "timezone": "Europe/London",
        },
    ).json()
    code = enrolled["activation_code"]
    token = (
        APIClient()
        .post("/api/v1/auth/activate/", {"code": code, "password": PASSWORD})
        .json()["token"]
    )
    patient = Patient.objects.get(email=EMAIL)
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    now = timezone.now()
    rx = doctor.post(
        "/api/v1/prescriptions/",
        {
            "patient": patient.id,
            "protocol": "knee-rocks",
            "start_date": (now - timedelta(days=2)).date().isoformat(),
        },
    ).json()

    # A check-in the API refuses, then one with notes and a warning sign.
    checkin = {
        "prescription": rx["id"],
        "slot": "other",
        "performed_at": now.isoformat(),
        "pain_before": 11,
        "notes": NOTES,
    }
    me.post("/api/v1/check-ins/", checkin)
    checkin.update(pain_before=7, red_flags=["leg_weakness"])
    assert me.post("/api/v1/check-ins/", checkin, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    doctor.post(f"/api/v1/prescriptions/{rx['id']}/resume/")

    # Reminders: one by email through a server that refuses the address, one by a webhook
    # that nobody answers (its URL holds the receiver's secret).
    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({EMAIL: (550, b"no such user " + EMAIL.encode())})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    due = timezone.now()
    for day, channel in ((5, "email"), (6, "webhook")):
        ReminderPreference.objects.update_or_create(
            patient=patient,
            defaults={
                "channel": channel,
                "webhook_url": f"http://127.0.0.1:9/{WEBHOOK_SECRET_PATH}",
            },
        )
        reminder = Reminder.objects.create(
            prescription_id=rx["id"],
            slot="bedtime",
            local_date=now.date() + timedelta(days=day),
            fire_at=due,
            channel=channel,
        )
        reminders_deliver(reminder_ids=[reminder.id])
    assert Reminder.objects.exclude(reason="").exists(), "the failures were recorded"

    # The team's reads (a search by name), the FHIR export, the patient's export and feed.
    client_for(staff_a).get("/api/v1/patients/", {"search": LAST})
    doctor.get(f"/api/v1/patients/{patient.id}/fhir/")
    me.get("/api/v1/me/export/")
    calendar = links.calendar_token(patient.id, patient.calendar_feed_version)
    me.get(f"/cal/{calendar}.ics")

    secrets = {
        "first name": FIRST,
        "last name": LAST,
        "email": EMAIL,
        "email user": EMAIL.split("@")[0],
        "phone": PHONE,
        "notes": NOTES,
        "symptom": "leg_weakness",
        "symptom words": "leg weakness",
        "password": PASSWORD,
        "activation code": code,
        "token": token,
        "webhook secret path": WEBHOOK_SECRET_PATH,
        "calendar token": calendar,
    }
    text = logs.text + "\n".join(str(record.args) for record in logs.records)
    # The paths that log were really taken: refused requests, failed deliveries.
    logged = {record.name for record in logs.records}
    assert {"django.request", "prescriptions.reminders.deliver"} <= logged
    found = {what for what, value in secrets.items() if value.lower() in text.lower()}
    assert found == set(), f"log lines carry the patient's {sorted(found)}"


def test_the_password_reset_flows_log_no_link_token_or_password(logs, patient_a, clinician_a):
    """Both doors, with the refusals that Django logs (a weak password, a spent link)."""
    email = patient_a.user.email
    with TestCase.captureOnCommitCallbacks(execute=True):
        APIClient().post("/api/v1/auth/password-reset/", {"email": email})
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/reset/([\w-]+)/([\w-]+)/)", message.body)
    path, uid, token = link.groups()
    api = APIClient()
    api.post("/api/v1/auth/password-reset/confirm/", {"uid": uid, "token": token})
    weak = {"uid": uid, "token": token, "new_password": "123"}
    assert api.post("/api/v1/auth/password-reset/confirm/", weak).status_code == 400
    good = {"uid": uid, "token": token, "new_password": PASSWORD}
    assert api.post("/api/v1/auth/password-reset/confirm/", good).status_code == 200
    assert api.post("/api/v1/auth/password-reset/confirm/", good).status_code == 400

    # The pages: a request, the link, a weak password, the new one, the spent link again.
    browser = Client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        browser.post("/my/password-reset/", {"email": email})
    page_link = re.search(r"http://testserver(/reset/[\w-]+/([\w-]+)/)", mail.outbox[-1].body)
    page_path, page_token = page_link.groups()
    browser.get(page_path, follow=True)
    set_password = f"/reset/{uid}/set-password/"
    weak = {"new_password": "123", "new_password_again": "123"}
    assert browser.post(set_password, weak).status_code == 400
    good = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    assert browser.post(set_password, good).status_code == 302
    assert "no longer works" in browser.get(page_path, follow=True).content.decode()
    # The change of password, refused once, on both doors.
    change = {"old_password": "wrong-password-here", "new_password": "123"}
    assert client_for(clinician_a).post("/api/v1/auth/password/", change).status_code == 400

    secrets = {
        "email": email,
        "link": link.group(0),
        "link path": path,
        "token": token,
        "page link path": page_path,
        "page token": page_token,
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
    }
    text = logs.text + "\n".join(str(record.args) for record in logs.records)
    assert "django.request" in {record.name for record in logs.records}, "refusals were logged"
    found = {what for what, value in secrets.items() if value.lower() in text.lower()}
    assert found == set(), f"log lines carry the reset's {sorted(found)}"


def test_invitations_and_second_factors_log_no_token_secret_or_code(logs, clinician_a):
    """An invitation used, refused and opened again once spent; a second factor set up with
    a wrong code first, used to sign in, and its recovery codes shown."""
    doctor = client_for(clinician_a)
    invite = {"email": "newcomer@example.test", "first_name": "New", "last_name": "Comer"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        doctor.post("/api/v1/team/", {**invite, "role": "staff"})
    invitation_path = re.search(r"http://testserver(/join/([\w-]+)/)", mail.outbox[-1].body)
    join_path, invitation_token = invitation_path.groups()
    api = APIClient()
    weak = {"token": invitation_token, "password": "123"}
    assert api.post("/api/v1/auth/join/", weak).status_code == 400
    joined = api.post("/api/v1/auth/join/", {"token": invitation_token, "password": PASSWORD})
    assert joined.status_code == 200
    assert Client().get(join_path, follow=True).status_code == 404  # spent: Django logs it

    member = APIClient()
    member.credentials(HTTP_AUTHORIZATION=f"Bearer {joined.json()['token']}")
    secret = parse_qs(urlparse(member.post("/api/v1/auth/2fa/setup/").json()["otpauth_url"]).query)
    key = secret["secret"][0]
    code = f"{totp(base64.b32decode(key)):06d}"
    recovery = member.post("/api/v1/auth/2fa/confirm/", {"code": code}).json()["recovery_codes"]
    sign_in = {"username": invite["email"], "password": PASSWORD, "otp": recovery[0]}
    assert APIClient().post("/api/v1/auth/token/", sign_in).status_code == 200
    # Refused codes, which Django logs: a spent recovery code, a wrong code to turn it off.
    assert APIClient().post("/api/v1/auth/token/", sign_in).status_code == 400
    assert member.post("/api/v1/auth/2fa/disable/", {"code": recovery[1][:-1]}).status_code == 400

    secrets = {
        "invitation token": invitation_token,
        "join path": join_path,
        "second-factor key": key,
        "code": code,
        **{f"recovery code {n}": value for n, value in enumerate(recovery)},
        "password": PASSWORD,
    }
    text = logs.text + "\n".join(str(record.args) for record in logs.records)
    assert "django.request" in {record.name for record in logs.records}, "refusals were logged"
    found = {what for what, value in secrets.items() if value.lower() in text.lower()}
    assert found == set(), f"log lines carry the account's {sorted(found)}"
