"""The chaos bench's clinic webhooks: a receiver, and the worker killed while delivering.

The receiver is an HTTP server on 127.0.0.1 in a thread of the bench. Each POST is checked
with the Standard Webhooks reference code (`standardwebhooks`), written down with its
`webhook-id` and the check-in it names, and answered 200 after DELAY seconds (a receiver
doing its work); a worker killed during that moment has posted it without knowing it
arrived, and posts it again under the same `webhook-id`, which the receiver can drop.

Imported by bench/chaos.py once Django is set up (it needs the chaos bench's database and
broker); `fault_webhooks_worker_killed` takes that bench's worker and sweep.
"""

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

from bench import harness
from clinic import events
from clinic.models import Clinic, Event, User
from patients.models import Patient
from prescriptions.checkins import checkin_record
from prescriptions.models import Prescription, Protocol, StatusChange
from webhooks import services
from webhooks.models import Delivery
from webhooks.tasks import sweep

DELAY = 0.05


class Receiver:
    """What came in: each post's webhook-id and the check-in it named, bad signatures."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.lock = threading.Lock()
        self.posts: list[tuple[str, int | None]] = []
        self.bad_signatures = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self._answer(400)
                    return
                with receiver.lock:
                    receiver.posts.append((headers["webhook-id"], payload["data"].get("check_in")))
                time.sleep(DELAY)
                self._answer(200)

            def _answer(self, status: int):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def count(self) -> int:
        with self.lock:
            return len(self.posts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _seed(patients: int) -> tuple[Clinic, User, list[Prescription]]:
    """A clinic of `patients` patients, each with an active prescription begun days ago."""
    now = datetime.now(UTC)
    clinic = Clinic.objects.create(name="Chaos webhooks", slug="chaos-webhooks", timezone="UTC")
    clinician = User.objects.create(
        username="chaos-webhooks@example.test", role="clinician", clinic=clinic
    )
    users = User.objects.bulk_create(
        User(username=f"hooks-{n}@example.test", email=f"hooks-{n}@example.test",
             role="patient", clinic=clinic, password="!")
        for n in range(patients)
    )  # fmt: skip
    rows = Patient.objects.bulk_create(
        Patient(clinic=clinic, user=user, first_name="Chaos", last_name=str(n),
                email=user.email, timezone="UTC")
        for n, user in enumerate(users)
    )  # fmt: skip
    protocol = Protocol.objects.get(slug="knee-rocks")
    prescriptions = Prescription.objects.bulk_create(
        Prescription(patient=p, protocol=protocol, clinician=clinician,
                     start_date=now.date() - timedelta(days=2))
        for p in rows
    )  # fmt: skip
    StatusChange.objects.bulk_create(
        StatusChange(prescription=rx, status="active", effective_at=now - timedelta(days=3))
        for rx in prescriptions
    )
    return clinic, clinician, prescriptions


def fault_webhooks_worker_killed(worker, remaining, count: int = 300, kills: int = 5) -> dict:
    """`count` check-ins (one `check_in.created` each) while the worker is SIGKILLed
    `kills` times, each time a moment after it began posting again; then the bench sweeps
    (as beat does) until every delivery is delivered."""
    clinic, clinician, prescriptions = _seed(patients=30)
    receiver = Receiver()
    endpoint = services.endpoint_create(
        clinic_id=clinic.id, url=receiver.url, events=["check_in.created"], by=clinician
    )
    receiver.secret = endpoint.secret
    worker.start()
    for n in range(count):
        checkin_record(
            prescription=prescriptions[n % len(prescriptions)],
            slot="other",
            performed_at=datetime.now(UTC) - timedelta(minutes=1),
            pain_before=3,
            notes=f"webhooks chaos {n}",
        )
    killed_at = []
    for _ in range(kills):
        # Mid-delivery: once the worker (restarted) has posted again, a moment later.
        seen = receiver.count()
        while receiver.count() == seen and remaining() > 1:
            time.sleep(0.02)
        time.sleep(random.uniform(0.1, 1.5))
        worker.kill()
        killed_at.append(receiver.count())
        worker.start()
    pending = Delivery.objects.filter(endpoint=endpoint).exclude(status=Delivery.Status.DELIVERED)
    while pending.exists():
        if remaining() < 1:
            raise SystemExit("chaos: webhooks: deliveries still pending")
        sweep()  # beat's sweep every second: leases the kills left run out after theirs
        time.sleep(1)
    worker.stop()
    time.sleep(DELAY * 2)  # a post being answered
    receiver.close()
    row = webhooks_row(clinic, receiver, count, kills)
    return {**row, "detail": f"posts received when each kill came: {killed_at}"}


def webhooks_row(clinic: Clinic, receiver: Receiver, count: int, kills: int) -> dict:
    expected = {
        str(event_id): check_in
        for event_id, check_in in Event.objects.filter(
            clinic=clinic, type=events.Type.CHECK_IN_CREATED
        ).values_list("id", "data__check_in")
    }
    per_id = Counter(webhook_id for webhook_id, _ in receiver.posts)
    ids_per_check_in = Counter()
    for _, check_in in set(receiver.posts):
        ids_per_check_in[check_in] += 1
    received = {webhook_id for webhook_id in per_id if webhook_id in expected}
    return {
        "fault": f"worker SIGKILLed delivering clinic webhooks, {kills} times",
        "expected": count,
        "received": len(received),
        # A check-in without its event would be lost too: counted from the check-ins made.
        "lost": count - len(received),
        "same-id repeats": sum(n - 1 for n in per_id.values()),
        "other-id duplicates": sum(n - 1 for n in ids_per_check_in.values())
        + len(set(per_id) - set(expected)),
        "bad signatures": receiver.bad_signatures,
    }


COLUMNS = ["fault", "expected", "received", "lost", "same-id repeats", "other-id duplicates",
           "bad signatures"]  # fmt: skip


def missed(row: dict) -> bool:
    """Targets: lost 0, other-id duplicates 0, bad signatures 0 (same-id repeats allowed)."""
    return bool(row["lost"] or row["other-id duplicates"] or row["bad signatures"])


def record(row: dict, notes: str) -> None:
    harness.record(
        "Chaos: the worker killed while delivering clinic webhooks",
        [[row[column] for column in COLUMNS]],
        COLUMNS,
        notes=notes + (" Missed." if missed(row) else " All met."),
    )
