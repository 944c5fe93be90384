"""The chaos bench's clinic webhooks: a receiver, and the worker killed while delivering.

The receiver (bench/hook_receiver.py) checks each post with the Standard Webhooks
reference code (`standardwebhooks`), writes down its `webhook-id` and the check-in it
names, and answers 200 after DELAY seconds; a worker killed during that moment has posted
without knowing it arrived, and posts again under the same `webhook-id`, which the
receiver can drop.

Imported by bench/chaos.py once Django is set up (it needs the chaos bench's database and
broker); `fault_webhooks_worker_killed` takes that bench's worker and sweep.
"""

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench import harness
from bench.hook_receiver import Receiver
from clinic import events
from clinic.models import Clinic, Event, User
from patients.models import Patient
from prescriptions.checkins import checkin_record
from prescriptions.models import Prescription, Protocol, StatusChange
from webhooks import services
from webhooks.models import Delivery
from webhooks.tasks import sweep

DELAY = 0.05


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
    receiver = Receiver(delay=DELAY)
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
    posts = [(post.webhook_id, post.payload["data"].get("check_in")) for post in receiver.posts]
    per_id = Counter(webhook_id for webhook_id, _ in posts)
    ids_per_check_in = Counter(check_in for _, check_in in set(posts))
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
