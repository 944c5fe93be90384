"""Chaos bench: faults a deployment meets, and whether any reminder or check-in is lost.

    .venv/bin/python bench/chaos.py            # about 5 minutes; exits 1 if anything is lost
    .venv/bin/python bench/chaos.py webhooks   # only fault 5 (about a minute)

It runs on PostgreSQL (DATABASE_URL, default the database kr_audit_chaos on 127.0.0.1,
dropped and created afresh) and on a Redis server of its own that it starts on port 6390
(CHAOS_REDIS_PORT) and restarts at will; the machine's shared Redis is never touched. A
real Celery worker (`--concurrency 2`) sends email reminders through a mail server that
takes 50 ms a message and writes down each Message-ID it receives. The faults:

1. the worker killed with SIGKILL in the middle of a batch of reminders, ten times;
2. Redis restarted (without persistence) while reminders wait in it;
3. two schedulers ticking at the same time (two processes running the tick in a loop);
4. the database connections dropped (pg_terminate_backend) again and again while patients
   post check-ins through gunicorn, retrying with the same Idempotency-Key;
5. the worker killed with SIGKILL while it posts clinic webhooks, five times
   (bench/chaos_webhooks.py: a receiver taking 50 ms a post checks each signature).

For each: expected, sent (stored, for check-ins), lost, duplicated (a repeat the receiver
could not drop: another Message-ID or another stored check-in), in doubt (reminders whose
send had begun when the worker died) and repeats (in-doubt resends the receiver dropped by
their Message-ID). Targets: lost 0, duplicated 0, in doubt at most SEND_GROUP emails per
worker process per kill (deliver.py marks emails `sending` a group at a time, since a commit
per reminder cost more than the sending; each goes again under its Message-ID). Fault 5
has a table of its own: expected check-in events, received (distinct webhook-ids), lost,
same-id repeats (allowed: the receiver drops them), other-id duplicates (a check-in under a
second webhook-id) and bad signatures; targets 0 but for the repeats. The
results are appended to bench/RESULTS.md (bench/harness.py's format).
"""

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
WORK = Path(tempfile.mkdtemp(prefix="kr-chaos-"))
REDIS_PORT = int(os.environ.get("CHAOS_REDIS_PORT", "6390"))
WEB_PORT = int(os.environ.get("CHAOS_WEB_PORT", "8161"))
CONCURRENCY = 2
LEASE_SECONDS = 5
DEADLINE = time.monotonic() + float(os.environ.get("CHAOS_TIMEOUT", "900"))

ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kr_audit_chaos"
    ),
    "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "EMAIL_BACKEND": "bench.chaos_mailbox.SlowMailbox",
    "CHAOS_MAILBOX": str(WORK / "mailbox.jsonl"),
    "VAR_DIR": str(WORK / "var"),
    # Short, so that recovery fits in a bench run (production: 5 and 10 minutes).
    "REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
    "REMINDER_STRANDED_AFTER_SECONDS": "5",
    "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
    "WEBHOOKS_ALLOW_LOCAL": "1",
    "USER_THROTTLE_RATE": "1000000/min",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(BASE_DIR),
}
for _name in ("REDIS_URL", "EMAIL_URL"):
    os.environ.pop(_name, None)
os.environ.update(ENV)

import django  # noqa: E402
import psycopg  # noqa: E402

DB_NAME = ENV["DATABASE_URL"].rsplit("/", 1)[1]
ADMIN_URL = ENV["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"


def fresh_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')


fresh_database()
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from knox.models import get_token_model  # noqa: E402

from bench import harness  # noqa: E402
from clinic.models import Clinic, User  # noqa: E402
from config import celery_app  # noqa: E402
from patients.models import Patient  # noqa: E402
from prescriptions.models import (  # noqa: E402
    CheckIn,
    Prescription,
    PrescriptionSlot,
    Protocol,
    Reminder,
    StatusChange,
)
from prescriptions.reminders.deliver import SEND_GROUP  # noqa: E402
from prescriptions.reminders.tick import reminders_tick  # noqa: E402
from prescriptions.reminders.transports import reminder_message_id  # noqa: E402
from prescriptions.tasks import deliver_reminders  # noqa: E402

# Each worker process may be sending one group of emails when it is killed.
IN_DOUBT_PER_KILL = CONCURRENCY * SEND_GROUP

QUEUE = f"chaos-{uuid.uuid4().hex[:8]}"
celery_app.conf.task_default_queue = QUEUE


def remaining() -> float:
    left = DEADLINE - time.monotonic()
    if left <= 0:
        sys.exit("chaos: out of time")
    return left


# --- Redis, worker, web ------------------------------------------------------------------


def redis_start() -> None:
    subprocess.run(
        ["redis-server", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no",
         "--daemonize", "yes", "--dir", str(WORK), "--logfile", str(WORK / "redis.log"),
         "--pidfile", str(WORK / "redis.pid")],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True)\
                .stdout.strip() == b"PONG":  # fmt: skip
            return
        time.sleep(0.1)
    sys.exit("chaos: redis did not start")


def redis_stop() -> None:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)
    time.sleep(0.3)


class Worker:
    def __init__(self):
        self.process = None

    def start(self):
        log = (WORK / "worker.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
             f"--concurrency={CONCURRENCY}", "-Q", QUEUE, "-n", f"{QUEUE}-{uuid.uuid4().hex[:4]}",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-P", "prefork"],
            cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        time.sleep(1)

    def kill(self):
        """SIGKILL to the worker and its processes, as an OOM killer or a lost node would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


# --- Data --------------------------------------------------------------------------------

PROTOCOL = None
CLINICIAN = None


def seed(fault: str, count: int) -> Clinic:
    """A clinic of `count` activated patients whose morning slot falls due in a moment
    (a slot counts from when it was made: one made after its time is due tomorrow)."""
    global CLINICIAN
    now = datetime.now(UTC)
    due = (now + timedelta(seconds=3)).replace(microsecond=0)
    clinic = Clinic.objects.create(name=f"Chaos {fault}", slug=f"chaos-{fault}", timezone="UTC")
    clinician = User.objects.create(
        username=f"chaos-{fault}@example.test", role="clinician", clinic=clinic
    )
    users = User.objects.bulk_create(
        User(username=f"{fault}-{n}@example.test", email=f"{fault}-{n}@example.test",
             role="patient", clinic=clinic, password="!")
        for n in range(count)
    )  # fmt: skip
    patients = Patient.objects.bulk_create(
        Patient(clinic=clinic, user=u, first_name="Chaos", last_name=str(n), email=u.email,
                timezone="UTC")
        for n, u in enumerate(users)
    )  # fmt: skip
    protocol = Protocol.objects.get(slug="knee-rocks")
    prescriptions = Prescription.objects.bulk_create(
        Prescription(patient=p, protocol=protocol, clinician=clinician,
                     start_date=now.date() - timedelta(days=2))
        for p in patients
    )  # fmt: skip
    PrescriptionSlot.objects.bulk_create(
        PrescriptionSlot(prescription=rx, kind="morning", time=due.time(),
                         next_fire_at=due)
        for rx in prescriptions
    )  # fmt: skip
    StatusChange.objects.bulk_create(
        StatusChange(prescription=rx, status="active", effective_at=now - timedelta(days=3))
        for rx in prescriptions
    )
    CLINICIAN = clinician
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.2)
    return clinic


def tick() -> int:
    return reminders_tick(deliver=deliver_reminders.delay)


def mailbox() -> Counter:
    path = Path(ENV["CHAOS_MAILBOX"])
    if not path.exists():
        return Counter()
    return Counter(json.loads(line)["message_id"] for line in path.read_text().splitlines())


def settle(clinic: Clinic, label: str) -> None:
    """Ticks (the sweep) every second until none of the clinic's reminders is waiting."""
    waiting = Reminder.objects.filter(
        prescription__patient__clinic=clinic, status__in=["queued", "sending"]
    )
    while waiting.exists():
        if remaining() < 1:
            sys.exit(f"chaos: {label}: reminders still waiting")
        tick()
        time.sleep(1)


def reminder_row(fault: str, clinic: Clinic, slots: int, in_doubt: int, kills: int) -> dict:
    reminders = Reminder.objects.filter(prescription__patient__clinic=clinic)
    ids = list(reminders.values_list("id", flat=True))
    expected_ids = {reminder_message_id(Reminder(id=i)): i for i in ids}
    received = mailbox()
    delivered = {mid for mid in received if mid in expected_ids}
    per_slot = Counter(reminders.values_list("prescription_id", "slot", "local_date"))
    return {
        "fault": fault,
        "expected": slots,
        "sent": reminders.filter(status="sent").count(),
        "lost": slots - len(delivered),
        # Another row (so another Message-ID) for one slot and day is a repeat no
        # receiver can recognise.
        "duplicated": sum(n - 1 for n in per_slot.values()) + (len(ids) - len(set(ids))),
        "in doubt": in_doubt,
        "repeats dropped": sum(received[mid] - 1 for mid in delivered),
        "limit": IN_DOUBT_PER_KILL * kills if kills else 0,
        "statuses": dict(Counter(reminders.values_list("status", flat=True))),
    }


# --- The faults --------------------------------------------------------------------------


def fault_worker_killed(worker: Worker, rounds: int = 10, per_round: int = 120) -> dict:
    clinics, in_doubt, kills = [], set(), 0
    for n in range(rounds):
        clinic = seed(f"kill{n}", per_round)
        clinics.append(clinic)
        worker.start()
        tick()
        # Mid-batch: once the worker has sent a first reminder of this round (a batch of
        # 100 takes about 5 s), a moment later.
        sent = Reminder.objects.filter(prescription__patient__clinic=clinic, status="sent")
        while not sent.exists() and remaining() > 1:
            time.sleep(0.05)
        time.sleep(random.uniform(0.2, 3.0))
        worker.kill()
        kills += 1
        # Every round so far (the worker may have been resending an earlier round's claims),
        # each send counted once (its lease), however many kills it stays `sending` through.
        sending = Reminder.objects.filter(
            prescription__patient__clinic__in=clinics, status="sending"
        )
        in_doubt |= set(sending.values_list("id", "lease_until"))
    worker.start()
    time.sleep(LEASE_SECONDS)
    for clinic in clinics:
        settle(clinic, "worker killed")
    worker.stop()
    rows = [reminder_row("k", c, per_round, 0, 0) for c in clinics]
    total = {key: sum(r[key] for r in rows) for key in ("sent", "lost", "duplicated",
                                                        "repeats dropped")}  # fmt: skip
    return {
        "fault": f"worker SIGKILLed mid-batch, {rounds} times",
        "expected": rounds * per_round,
        **total,
        "in doubt": len(in_doubt),
        "limit": IN_DOUBT_PER_KILL * kills,
    }


def fault_redis_restarted(worker: Worker, count: int = 200) -> dict:
    clinic = seed("redis", count)
    tick()  # the delivery messages wait in Redis: no worker is running
    redis_stop()
    redis_start()  # without persistence: every waiting message is gone
    worker.start()
    settle(clinic, "redis restarted")
    worker.stop()
    return {**reminder_row("Redis restarted with reminders pending", clinic, count, 0, 0)}


def _tick_loop(seconds: float) -> None:
    from django.db import connection as own

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tick()
    own.close()


def fault_two_schedulers(worker: Worker, count: int = 300) -> dict:
    clinic = seed("beat", count)
    worker.start()
    connection.close()
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:  # a second scheduler process, ticking as fast as it can
            try:
                _tick_loop(4)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    settle(clinic, "two schedulers")
    worker.stop()
    return reminder_row("two schedulers ticking at once", clinic, count, 0, 0)


def fault_database_dropped(patients: int = 6, per_patient: int = 25) -> dict:
    clinic = seed("checkins", patients)
    tokens = []
    for patient in Patient.objects.filter(clinic=clinic).select_related("user"):
        rx = Prescription.objects.get(patient=patient)
        tokens.append((get_token_model().objects.create(user=patient.user)[1], rx.id))
    connection.close()
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", WEB_PORT)) == 0:
            sys.exit(f"chaos: port {WEB_PORT} is taken (CHAOS_WEB_PORT chooses another)")
    log = (WORK / "web.log").open("ab")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{WEB_PORT}", "--workers", "3", "--timeout", "30"],
        cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{WEB_PORT}"
    stop = threading.Event()
    terminated = Counter()

    def killer():
        with psycopg.connect(ENV["DATABASE_URL"], autocommit=True) as db:
            while not stop.is_set():
                rows = db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'",
                    [DB_NAME],
                ).fetchall()
                terminated["connections"] += len(rows)
                time.sleep(0.5)

    acknowledged, errors = set(), Counter()

    def patient_client(token: str, prescription: int):
        for n in range(per_patient):
            key = f"{token[:8]}-{n}"
            body = json.dumps({
                "prescription": prescription, "slot": "other",
                "performed_at": datetime.now(UTC).isoformat(), "pain_before": 3,
                "notes": f"chaos {key}",
            }).encode()  # fmt: skip
            while remaining() > 30:  # the same key and body on every retry
                request = urllib.request.Request(
                    f"{base}/api/v1/check-ins/", data=body, method="POST",
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json", "Idempotency-Key": key},
                )  # fmt: skip
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        if answer.status in (200, 201):
                            acknowledged.add(key)
                            break
                except urllib.error.HTTPError as error:
                    errors[error.code] += 1
                except (OSError, http.client.HTTPException):
                    errors["connection"] += 1
                time.sleep(0.05)

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
        threading.Thread(target=killer, daemon=True).start()
        clients = [threading.Thread(target=patient_client, args=t) for t in tokens]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=remaining())
    finally:
        stop.set()
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    time.sleep(0.5)
    connection.close()
    notes = list(CheckIn.objects.filter(patient__clinic=clinic).values_list("notes", flat=True))
    stored = Counter(note.removeprefix("chaos ") for note in notes)
    expected = patients * per_patient
    return {
        "fault": "database connections dropped during check-ins",
        "expected": expected,
        "sent": len(acknowledged),
        "stored": len(notes),
        "lost": len(acknowledged - set(stored)) + (expected - len(acknowledged)),
        "duplicated": sum(n - 1 for n in stored.values()),
        "in doubt": 0,
        "repeats dropped": 0,
        "limit": 0,
        "detail": f"{terminated['connections']} connections terminated; "
        f"answers retried: {dict(errors)}",
    }


# --- Report ------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    head = "| fault | expected | sent | lost | duplicated | in doubt (limit) | repeats dropped |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        sent = r["sent"] if "stored" not in r else f"{r['sent']} sent / {r['stored']} stored"
        doubt = f"{r['in doubt']} (≤ {r['limit']})" if r["limit"] else str(r["in doubt"])
        lines.append(
            f"| {r['fault']} | {r['expected']} | {sent} | {r['lost']} | {r['duplicated']} "
            f"| {doubt} | {r['repeats dropped']} |"
        )
    return "\n".join(lines)


def webhooks_fault() -> int:
    """Fault 5, its table recorded (it stops Redis when done)."""
    from bench import chaos_webhooks

    worker = Worker()
    started = time.monotonic()
    try:
        row = chaos_webhooks.fault_webhooks_worker_killed(worker, remaining)
    finally:
        worker.kill()
        redis_stop()
    chaos_webhooks.record(
        row,
        f"PostgreSQL {connection.pg_version // 10000}, a Redis of its own (port {REDIS_PORT}), "
        f"one Celery worker with concurrency {CONCURRENCY}, a receiver taking "
        f"{chaos_webhooks.DELAY * 1000:.0f} ms a post, lease {LEASE_SECONDS} s, the sweep "
        f"every second; {row['detail']}; {time.monotonic() - started:.0f} s. Targets: lost 0, "
        "other-id duplicates 0, bad signatures 0; same-id repeats allowed.",
    )
    return 1 if chaos_webhooks.missed(row) else 0


def main() -> int:
    # Stopped from outside, it still stops its worker, web server and Redis.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("chaos: stopped"))
    random.seed(int(os.environ.get("CHAOS_SEED", "12")))
    call_command("migrate", verbosity=0)
    redis_start()
    if sys.argv[1:] == ["webhooks"]:
        return webhooks_fault()
    worker = Worker()
    started = time.monotonic()
    rows = []
    try:
        rows.append(fault_worker_killed(worker))
        print(table(rows[-1:]), flush=True)
        rows.append(fault_redis_restarted(worker))
        print(table(rows[-1:]), flush=True)
        rows.append(fault_two_schedulers(worker))
        print(table(rows[-1:]), flush=True)
        rows.append(fault_database_dropped())
        print(rows[-1]["detail"], flush=True)
    finally:
        worker.kill()
        redis_stop()
    elapsed = time.monotonic() - started
    report = table(rows)
    print(f"\n{report}\n\n{elapsed:.0f} s")
    failed = [
        r["fault"]
        for r in rows
        if r["lost"]
        or r["duplicated"]
        or (r["limit"] and r["in doubt"] > r["limit"])
        or ("stored" in r and r["stored"] != r["sent"])
    ]
    header = ["fault", "expected", "sent", "lost", "duplicated", "in doubt (limit)",
              "repeats dropped"]  # fmt: skip
    harness.record(
        "Chaos: faults and what they lost",
        [[cell.strip() for cell in line.strip("|").split("|")] for line in report.splitlines()[2:]],
        header,
        notes=(
            f"PostgreSQL {connection.pg_version // 10000}, a Redis of its own (port "
            f"{REDIS_PORT}), one Celery worker with concurrency {CONCURRENCY}, email reminders "
            f"at 50 ms each, lease {LEASE_SECONDS} s; {elapsed:.0f} s in all. Check-ins: "
            f"{rows[-1]['detail']}. Targets: lost 0, duplicated 0, in doubt at most "
            f"{IN_DOUBT_PER_KILL} per kill ({SEND_GROUP} per worker process). "
            + ("All met." if not failed else f"Missed: {', '.join(failed)}.")
        ),
    )
    if failed:
        print(f"chaos: targets missed: {failed}", file=sys.stderr)
    redis_start()
    webhooks_missed = webhooks_fault()
    return 1 if failed or webhooks_missed else 0


if __name__ == "__main__":
    sys.exit(main())
