"""Delivery of queued reminders: each channel, claims, retries and last-moment checks."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import time_machine
from django.core import mail
from requests.adapters import HTTPAdapter

from patients.models import Patient, ReminderPreference
from prescriptions import reminders
from prescriptions.models import Prescription, Reminder, StatusChange
from prescriptions.reminders import deliver, links
from prescriptions.reminders.messages import reminder_message
from prescriptions.reminders.tick import ARCHIVED
from prescriptions.reminders.transports import email as email_transport
from prescriptions.tasks import deliver_reminders
from tests.factories import CheckInFactory
from tests.prescriptions.reminders_support import FIRE_AT, queued, scheduled_prescription

pytestmark = pytest.mark.django_db


@pytest.fixture
def prescription():
    with time_machine.travel(FIRE_AT - timedelta(hours=8), tick=False):
        return scheduled_prescription()


@pytest.fixture(autouse=True)
def _at_fire_time():
    with time_machine.travel(FIRE_AT, tick=False):
        yield


def prefer(prescription, **fields) -> ReminderPreference:
    preference, _ = ReminderPreference.objects.update_or_create(
        patient=prescription.patient, defaults=fields
    )
    return preference


class Receiver:
    """A webhook receiver on the loopback interface that answers with `status`."""

    def __init__(self, status=204):
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/knee-rocks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback, which webhooks refuse unless told otherwise.
    settings.WEBHOOKS_ALLOW_LOCAL = True
    receivers = []

    def start(status=204):
        receivers.append(Receiver(status))
        return receivers[-1]

    yield start
    for r in receivers:
        r.close()


def test_it_emails_the_reminder_to_the_patient(prescription):
    reminder = queued(prescription)

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at, reminder.attempts) == ("sent", FIRE_AT, 1)
    assert mail.outbox[0].to == [prescription.patient.email]


@pytest.mark.parametrize("heat_prep", [False, True])
def test_it_words_the_bedtime_reminder_with_or_without_heat(prescription, heat_prep):
    prescription.heat_prep = heat_prep
    prescription.save()
    reminder = queued(prescription, slot="bedtime")

    message = reminder_message(reminder)

    assert "bedtime knee rocks" in message.text
    assert ("heat pack" in message.text) == heat_prep
    assert ("for about 10 minutes" in message.text) == heat_prep
    assert ("heat first" in message.subject) == heat_prep
    assert ("warm your low back 10 min" in message.sms) == heat_prep


def test_it_texts_the_reminder_through_the_configured_sms_backend(prescription, settings):
    prescription.patient.phone = "+1 555 0100"
    prescription.patient.save()
    reminder = queued(prescription, channel="sms")

    deliver_reminders.delay([reminder.id])

    [message] = [json.loads(p.read_text()) for p in settings.SMS_FILE_PATH.iterdir()]
    assert message["to"] == "+1 555 0100"
    assert "knee" in message["body"].lower()
    reminder.refresh_from_db()
    assert reminder.status == "sent"


def test_it_fails_an_sms_at_once_when_the_patient_has_no_phone(prescription):
    prescription.patient.phone = ""
    prescription.patient.save()
    reminder = queued(prescription, channel="sms")

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("failed", 1)
    assert "no phone number" in reminder.reason


def test_it_posts_a_signed_webhook_the_receiver_can_verify(prescription, receiver):
    hook = receiver()
    preference = prefer(prescription, channel="webhook", webhook_url=hook.url)
    reminder = queued(prescription, channel="webhook")

    deliver_reminders.delay([reminder.id])

    [(headers, body)] = hook.requests
    timestamp = headers["X-KneeRocks-Timestamp"]
    expected = hmac.new(
        preference.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-KneeRocks-Signature"] == f"sha256={expected}"
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == f"reminder-{reminder.id}"
    payload = json.loads(body)
    assert (payload["reminder"], payload["slot"], payload["local_date"]) == (
        reminder.id,
        "morning",
        "2024-06-03",
    )
    assert payload["checkin_url"] == f"http://testserver/c/{links.checkin_token(reminder.id)}/"
    reminder.refresh_from_db()
    assert reminder.status == "sent"


def test_it_retries_a_failing_webhook_then_records_the_failure(prescription, receiver, monkeypatch):
    delays = []
    monkeypatch.setattr(reminders, "retry_delay", lambda attempts: delays.append(attempts) or 0)
    hook = receiver(status=503)
    prefer(prescription, channel="webhook", webhook_url=hook.url)
    reminder = queued(prescription, channel="webhook")

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert len(hook.requests) == deliver.MAX_ATTEMPTS
    assert delays == [1, 2, 3]
    assert (reminder.status, reminder.attempts) == ("failed", deliver.MAX_ATTEMPTS)
    assert "503" in reminder.reason


def test_it_does_not_retry_a_webhook_the_receiver_rejects(prescription, receiver):
    hook = receiver(status=410)
    prefer(prescription, channel="webhook", webhook_url=hook.url)
    reminder = queued(prescription, channel="webhook")

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, len(hook.requests)) == ("failed", 1)


def test_it_does_not_follow_a_webhook_redirect(prescription, receiver):
    hook = receiver(status=307)
    prefer(prescription, channel="webhook", webhook_url=hook.url)
    reminder = queued(prescription, channel="webhook")

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert len(hook.requests) == 1
    assert reminder.status == "failed"
    assert "redirects are not followed" in reminder.reason


HOOK_HOST = "hooks.example.test"
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def resolve(monkeypatch):
    """Makes HOOK_HOST resolve to each answer in turn, the last one from then on: a list
    of addresses, or an error to raise."""
    real = socket.getaddrinfo

    def start(*answers):
        def getaddrinfo(host, port, *args, **kwargs):
            if host != HOOK_HOST:
                return real(host, port, *args, **kwargs)
            answer = answers[min(len(calls), len(answers) - 1)]
            calls.append(host)
            if isinstance(answer, Exception):
                raise answer
            family = socket.AF_INET6 if ":" in answer[0] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]

        calls = []
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return start


@pytest.fixture
def posted(monkeypatch):
    """Requests that would have left the machine; each gets a 204 and none is sent."""
    sent = []

    def send(adapter, request, **kwargs):
        sent.append((adapter, request))
        response = requests.Response()
        response.status_code, response._content, response.request = 204, b"", request
        return response

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return sent


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.5"], ["169.254.169.254"], ["::1"], [PUBLIC_ADDRESS, "10.0.0.5"], ["224.0.0.1"]],
)
def test_it_fails_a_webhook_whose_host_resolves_to_an_internal_address(
    prescription, resolve, posted, addresses
):
    resolve(addresses)
    prefer(prescription, channel="webhook", webhook_url=f"https://{HOOK_HOST}/kr")
    reminder = queued(prescription, channel="webhook")

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, posted) == ("failed", 1, [])
    assert "not on the public internet" in reminder.reason


def test_it_posts_to_the_public_address_it_checked_under_the_host_name(
    prescription, resolve, posted
):
    resolve([PUBLIC_ADDRESS])
    prefer(prescription, channel="webhook", webhook_url=f"https://{HOOK_HOST}/kr?via=kneerocks")
    reminder = queued(prescription, channel="webhook")

    deliver_reminders.delay([reminder.id])

    [(adapter, request)] = posted
    assert request.url == f"https://{PUBLIC_ADDRESS}:443/kr?via=kneerocks"
    assert request.headers["Host"] == HOOK_HOST
    # TLS still names, and checks the certificate of, the host the patient gave.
    assert adapter.poolmanager.connection_pool_kw["server_hostname"] == HOOK_HOST
    reminder.refresh_from_db()
    assert reminder.status == "sent"


def test_it_retries_a_webhook_whose_host_did_not_resolve(prescription, resolve, posted):
    resolve(socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), [PUBLIC_ADDRESS])
    prefer(prescription, channel="webhook", webhook_url=f"http://{HOOK_HOST}:8080/kr")
    reminder = queued(prescription, channel="webhook")

    deliver_reminders.delay([reminder.id])

    [(_, request)] = posted
    assert (request.url, request.headers["Host"]) == (
        f"http://{PUBLIC_ADDRESS}:8080/kr",
        f"{HOOK_HOST}:8080",
    )
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("sent", 2)


def test_it_backs_off_exponentially_with_jitter():
    first, third = deliver.retry_delay(1), deliver.retry_delay(3)

    assert 15 <= first <= 30
    assert 60 <= third <= 120
    assert deliver.retry_delay(20) <= deliver.RETRY_MAX_SECONDS


def test_it_never_sends_twice_when_the_task_is_delivered_again(prescription):
    reminder = queued(prescription)

    deliver_reminders.delay([reminder.id])
    deliver_reminders.delay([reminder.id])

    assert len(mail.outbox) == 1


def test_it_sends_nothing_while_another_attempt_holds_the_reminder(prescription):
    reminder = queued(prescription)
    Reminder.objects.filter(id=reminder.id).update(lease_until=FIRE_AT + timedelta(minutes=1))

    deliver_reminders.delay([reminder.id])

    assert mail.outbox == []


def test_it_skips_a_reminder_checked_in_while_it_waited(prescription):
    reminder = queued(prescription)
    CheckInFactory(prescription=prescription, slot="morning", performed_at=FIRE_AT)

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, mail.outbox) == ("skipped", [])


def test_it_skips_a_reminder_whose_prescription_was_paused_before_it_fired(prescription):
    reminder = queued(prescription)
    StatusChange.objects.create(
        prescription=prescription, status="paused", effective_at=FIRE_AT - timedelta(minutes=5)
    )

    deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason) == ("skipped", "the prescription is paused")


def test_it_skips_a_reminder_that_waited_too_long_in_the_queue(prescription):
    reminder = queued(prescription)

    with time_machine.travel(FIRE_AT + timedelta(minutes=61), tick=False):
        deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, mail.outbox) == ("skipped", [])


def test_it_sends_a_batch_through_one_email_connection(prescription, monkeypatch):
    other = scheduled_prescription()
    ids = [queued(prescription).id, queued(other).id]
    opened = []
    original = email_transport.get_connection
    monkeypatch.setattr(email_transport, "get_connection", lambda: opened.append(1) or original())

    deliver_reminders.delay(ids)

    assert (len(opened), len(mail.outbox)) == (1, 2)


# --- The checks of the instant, read with the claim -----------------------------------------


def history(prescription, *changes):
    """Replaces the prescription's status history with (status, effective_at) changes,
    recorded in the order given."""
    StatusChange.objects.filter(prescription=prescription).delete()
    for status, effective_at in changes:
        StatusChange.objects.create(
            prescription=prescription, status=status, effective_at=effective_at
        )


def delivered(reminder) -> Reminder:
    deliver_reminders.delay([reminder.id])
    reminder.refresh_from_db()
    return reminder


def test_a_pause_that_began_after_the_instant_does_not_stop_its_reminder(prescription):
    history(
        prescription,
        ("active", FIRE_AT - timedelta(days=2)),
        ("paused", FIRE_AT + timedelta(seconds=1)),  # while the delivery waited its turn
    )

    assert delivered(queued(prescription)).status == "sent"


def test_the_status_in_effect_at_the_instant_is_the_last_change_by_time_not_by_record(
    prescription,
):
    # Recorded later, effective earlier: the resume before the instant is what holds.
    history(
        prescription,
        ("active", FIRE_AT - timedelta(hours=1)),
        ("paused", FIRE_AT - timedelta(hours=2)),
    )

    assert delivered(queued(prescription)).status == "sent"


@pytest.mark.parametrize(("last", "status"), [("active", "sent"), ("paused", "skipped")])
def test_of_two_changes_at_the_same_instant_the_one_recorded_last_holds(prescription, last, status):
    first = "paused" if last == "active" else "active"
    history(
        prescription, (first, FIRE_AT - timedelta(hours=1)), (last, FIRE_AT - timedelta(hours=1))
    )

    assert delivered(queued(prescription)).status == status


@pytest.mark.parametrize(("stored", "status"), [("active", "sent"), ("paused", "skipped")])
def test_without_a_history_the_stored_status_decides(prescription, stored, status):
    history(prescription)
    Prescription.objects.filter(id=prescription.id).update(status=stored)

    assert delivered(queued(prescription)).status == status


def test_a_history_that_begins_after_the_instant_sends_nothing(prescription):
    history(prescription, ("active", FIRE_AT + timedelta(minutes=1)))

    reminder = delivered(queued(prescription))

    assert (reminder.status, mail.outbox) == ("skipped", [])
    assert reminder.reason.startswith("the prescription is ")


def test_it_skips_the_reminder_of_a_patient_archived_while_it_waited(prescription):
    reminder = queued(prescription)
    Patient.objects.filter(id=prescription.patient_id).update(archived_at=FIRE_AT)

    reminder = delivered(reminder)

    assert (reminder.status, reminder.reason, mail.outbox) == ("skipped", ARCHIVED, [])


@pytest.mark.parametrize(
    ("slot", "day"),
    [("bedtime", date(2024, 6, 3)), ("morning", date(2024, 6, 2))],
    ids=["another slot", "another day"],
)
def test_only_a_check_in_of_the_same_session_stops_the_reminder(prescription, slot, day):
    CheckInFactory(prescription=prescription, slot=slot, local_date=day)

    assert delivered(queued(prescription)).status == "sent"


def test_a_check_in_of_another_course_does_not_stop_the_reminder(prescription):
    other = scheduled_prescription(prescription.patient)
    CheckInFactory(prescription=other, slot="morning", local_date=date(2024, 6, 3))

    assert delivered(queued(prescription)).status == "sent"


def test_delivering_a_finished_reminder_again_leaves_it_as_it_was(prescription):
    reminder = delivered(queued(prescription))

    again = delivered(reminder)

    assert (again.status, again.attempts, again.lease_until, again.sent_at) == (
        "sent",
        1,
        None,
        FIRE_AT,
    )
    assert len(mail.outbox) == 1


def test_the_claim_reads_what_the_send_needs(prescription):
    prescription.heat_prep = True
    prescription.save()
    prefer(prescription, channel="webhook", webhook_url="https://hooks.example.test/kr")
    reminder = queued(prescription, slot="bedtime", channel="webhook")

    [claimed] = deliver._claim([reminder.id], FIRE_AT)

    patient = prescription.patient
    assert claimed.id == reminder.id
    assert (claimed.slot, claimed.local_date, claimed.fire_at) == (
        "bedtime",
        date(2024, 6, 3),
        FIRE_AT,
    )
    assert (claimed.first_name, claimed.email, claimed.phone) == (
        patient.first_name,
        patient.email,
        patient.phone,
    )
    assert (claimed.heat_minutes, claimed.webhook_url, claimed.attempts) == (
        10,
        "https://hooks.example.test/kr",
        1,
    )
