"""Bench: N reminders due in the same minute, dispatched by the tick, delivered by a worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_rem \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \
    .venv/bin/python bench/reminders_tick.py --count 30000 --not-due 70000

It migrates the database, replaces the data of its own clinic (slug `bench-reminders`)
with N patients in several zones whose morning slot falls due this minute and `--not-due`
more whose slot falls due hours later (the tick must pass them by), starts one Celery
worker (Celery's default concurrency unless `--concurrency`) on a queue of its own, runs
`--ticks` ticks at once in separate processes (two or more must share the work, never
double it) and waits
until every reminder has left `queued`. It reports how long the ticks took to dispatch
(reminders created and delivery tasks queued), how long delivery took, and how many
reminders were lost or duplicated: Reminder rows against due slots, and emails written by
the worker (file backend) against distinct recipients. Without CELERY_BROKER_URL the
embedded filesystem broker is used.

Baseline, in the same run: a bare loop of `apply_async` calls to the same broker, one
message per due reminder, on a queue no worker reads (purged afterwards).
"""

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from harness import record  # noqa: E402  (bench/ is on the path: this script runs from it)

from clinic.models import Clinic, User  # noqa: E402
from config import celery_app  # noqa: E402
from patients.models import Patient  # noqa: E402
from prescriptions.models import (  # noqa: E402
    Prescription,
    PrescriptionSlot,
    Protocol,
    Reminder,
    StatusChange,
)
from prescriptions.reminders.tick import LOOKAHEAD  # noqa: E402
from prescriptions.tasks import deliver_reminders, reminders_tick  # noqa: E402

SLUG = "bench-reminders"
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"]


def reset_and_seed(count: int, not_due: int, due: datetime) -> None:
    clinic = Clinic.objects.filter(slug=SLUG).first()
    if clinic:
        Reminder.objects.filter(prescription__patient__clinic=clinic).delete()
        StatusChange.objects.filter(prescription__patient__clinic=clinic).delete()
        PrescriptionSlot.objects.filter(prescription__patient__clinic=clinic).delete()
        Prescription.objects.filter(patient__clinic=clinic).delete()
        users = list(Patient.objects.filter(clinic=clinic).values_list("user_id", flat=True))
        Patient.objects.filter(clinic=clinic).delete()
        User.objects.filter(id__in=users).delete()
        User.objects.filter(clinic=clinic).delete()
        clinic.delete()
    clinic = Clinic.objects.create(name="Bench clinic", slug=SLUG, timezone="UTC")
    clinician = User.objects.create(
        username="bench-clinician@example.test", role="clinician", clinic=clinic
    )
    protocol = Protocol.objects.get(slug="knee-rocks")
    run = uuid.uuid4().hex[:6]
    users = User.objects.bulk_create(
        [
            User(
                username=f"bench-{run}-{n}@example.test",
                email=f"bench-{run}-{n}@example.test",
                role="patient",
                clinic=clinic,
                password="!",
            )
            for n in range(count + not_due)
        ],
        batch_size=5000,
    )
    patients = Patient.objects.bulk_create(
        [
            Patient(
                clinic=clinic,
                user=user,
                first_name="Bench",
                last_name=str(n),
                email=user.email,
                timezone=ZONES[n % len(ZONES)],
            )
            for n, user in enumerate(users)
        ],
        batch_size=5000,
    )
    prescriptions = Prescription.objects.bulk_create(
        [
            Prescription(
                patient=patient,
                protocol=protocol,
                clinician=clinician,
                start_date=due.date() - timedelta(days=2),
                # Its adherence ledger written up to the end of today, as the tick keeps it.
                ledger_until=due + timedelta(days=1),
            )
            for patient in patients
        ],
        batch_size=5000,
    )
    slots, history = [], []
    later = due + timedelta(hours=6)  # the slots of the patients not due this minute
    for n, (prescription, patient) in enumerate(zip(prescriptions, patients, strict=True)):
        fire_at = due if n < count else later
        local = fire_at.astimezone(patient.zone)
        slots.append(
            PrescriptionSlot(
                prescription=prescription, kind="morning", time=local.time(), next_fire_at=fire_at
            )
        )
        history.append(
            StatusChange(
                prescription=prescription,
                status="active",
                effective_at=due - timedelta(days=3),
            )
        )
    PrescriptionSlot.objects.bulk_create(slots, batch_size=5000)
    StatusChange.objects.bulk_create(history, batch_size=5000)


def retime(old: datetime, due: datetime) -> datetime:
    """Moves the seeded slots from `old` to `due` (the not-due ones as far), zone by zone."""
    slots = PrescriptionSlot.objects.filter(prescription__patient__clinic__slug=SLUG)
    for before, after in [(old + timedelta(hours=6), due + timedelta(hours=6)), (old, due)]:
        for zone in ZONES:
            slots.filter(next_fire_at=before, prescription__patient__timezone=zone).update(
                next_fire_at=after, time=after.astimezone(ZoneInfo(zone)).time()
            )
    return due


def start_worker(queue: str, mail_dir: Path, concurrency: int, log_path: Path):
    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "VAR_DIR": str(settings.VAR_DIR),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    env.pop("EMAIL_URL", None)
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
        "-Q", queue, "-n", f"{queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    if concurrency:
        command.append(f"--concurrency={concurrency}")
    log = log_path.open("wb")
    return subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def one_tick(_) -> int:
    try:
        return reminders_tick()  # the beat's task, run here: it queues at each due instant
    finally:
        connection.close()


def bare_apply_async(count: int) -> float:
    """Seconds for `count` bare `apply_async` calls to the broker, on a queue nobody reads."""
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    deliver_reminders.apply_async(([0],), queue=queue)  # connected, as the tick already is
    started = time.monotonic()
    for n in range(count):
        deliver_reminders.apply_async(([n],), queue=queue)
    seconds = time.monotonic() - started
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30000)
    parser.add_argument("--ticks", type=int, default=1, help="ticks started at the same time")
    parser.add_argument("--not-due", type=int, default=70000, help="patients not due now")
    parser.add_argument(
        "--concurrency", type=int, help="worker processes (default: Celery's, one per CPU)"
    )
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    settings.DEBUG = False  # no query log in this process

    call_command("migrate", verbosity=0)
    due = datetime.now(UTC).replace(second=0, microsecond=0)
    started = time.monotonic()
    reset_and_seed(args.count, args.not_due, due)
    print(
        f"seeded {args.count} due and {args.not_due} not due slots "
        f"in {time.monotonic() - started:.1f}s"
    )
    # Seeding takes a while: move every slot to a whole minute to come and start the tick
    # LOOKAHEAD before it, as the beat's tick of the minute before runs, so lateness is the
    # product's and not the seeding's.
    now = datetime.now(UTC)
    due = retime(due, now.replace(second=0, microsecond=0) + LOOKAHEAD + timedelta(minutes=1))
    if connection.vendor == "postgresql":
        # A deployment's tables have their statistics (autovacuum analyses them); freshly
        # bulk-loaded ones have none, and the planner then scans every status change.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    time.sleep(max(0.0, (due - LOOKAHEAD - datetime.now(UTC)).total_seconds()))

    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    worker = start_worker(queue, workdir / "mail", args.concurrency, workdir / "worker.log")
    try:
        # Ticks run as separate processes, as they would on separate workers.
        connection.close()
        with multiprocessing.get_context("fork").Pool(args.ticks) as pool:
            started = time.monotonic()
            results = pool.map(one_tick, range(args.ticks))
            dispatch = time.monotonic() - started
        print(f"{args.ticks} concurrent tick(s) queued {sum(results)} {results} in {dispatch:.2f}s")

        bench = Reminder.objects.filter(prescription__patient__clinic__slug=SLUG)
        deadline = time.monotonic() + args.timeout
        while bench.filter(status__in=["queued", "sending"]).exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                tail = (workdir / "worker.log").read_text(errors="replace")[-3000:]
                sys.exit(f"delivery did not finish; worker log:\n{tail}")
            time.sleep(0.5)
        delivered = (datetime.now(UTC) - due).total_seconds()
        worker_rss = peak_rss_mb(worker.pid)
        worker_cpu = cpu_seconds(worker.pid)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    # After delivery, so the baseline has the machine the tick shared with the worker.
    bare = bare_apply_async(args.count)
    print(f"bare apply_async loop: {args.count} messages in {bare:.2f}s")

    statuses = Counter(bench.values_list("status", flat=True))
    rows = bench.count()
    recipients = Counter()
    for path in (workdir / "mail").glob("*.log"):
        recipients.update(re.findall(r"^To: (\S+)$", path.read_text(), flags=re.M))
    duplicated_mail = sum(n - 1 for n in recipients.values() if n > 1)
    print(f"reminder rows: {rows} for {args.count} due slots, statuses {dict(statuses)}")
    print(f"emails written: {sum(recipients.values())} to {len(recipients)} patients")
    print(f"all delivered {delivered:.1f}s after the due instant")
    print(f"lost: {args.count - rows} rows, {args.count - len(recipients)} emails")
    print(f"duplicated: {rows - len(set(bench.values_list('prescription_id', flat=True)))} rows, "
          f"{duplicated_mail} emails")  # fmt: skip
    lateness = sorted(
        (sent_at - fire_at).total_seconds()
        for sent_at, fire_at in bench.filter(status="sent").values_list("sent_at", "fire_at")
    )
    lost = args.count - len(recipients)
    duplicated = rows - len(set(bench.values_list("prescription_id", flat=True)))
    if lateness:
        p50, p99 = lateness[len(lateness) // 2], lateness[int(len(lateness) * 0.99) - 1]
        tick_rate, bare_rate = sum(results) / dispatch, args.count / bare
        ratio = tick_rate / bare_rate
        record(
            f"Reminders: {args.count:,} due in the same minute among "
            f"{args.count + args.not_due:,} patients, one worker "
            f"(concurrency {args.concurrency or f'default, {os.cpu_count()}'}), "
            f"{args.ticks} tick(s)",
            [
                ["lateness from due instant to sent, p50 / p99 / max",
                 f"{p50:.1f} s / {p99:.1f} s / {lateness[-1]:.1f} s", "", "",
                 "p99 <= 10 s", "met" if p99 <= 10 else "missed"],
                ["lost / duplicated (rows and emails)", f"{lost} / {duplicated + duplicated_mail}",
                 "", "", "0 / 0",
                 "met" if lost == 0 and duplicated + duplicated_mail == 0 else "missed"],
                ["enqueue rate: tick (rows made, tasks queued) vs bare apply_async loop",
                 f"{tick_rate:,.0f} reminders/s ({dispatch:.1f} s)",
                 f"{bare_rate:,.0f} messages/s ({bare:.1f} s)", f"{ratio:.0%}", ">= 50 %",
                 "met" if ratio >= 0.5 else "missed"],
                ["delivery: all sent, after the due instant",
                 f"{delivered:.1f} s ({sum(results) / delivered:,.0f} reminders/s)",
                 "", "", "", ""],
                ["peak RSS of the worker (all its processes)", f"{worker_rss:.0f} MB",
                 "", "", "", ""],
                ["CPU of the worker (all its processes, start-up included)",
                 f"{worker_cpu:.1f} s ({worker_cpu / args.count * 1000:.2f} ms per reminder, "
                 f"{worker_cpu / delivered:.0%} of one core over the delivery)",
                 "", "", "", ""],
            ],
            ["measure", "figure", "baseline (same run)", "ratio", "target", ""],
            notes="Lateness counts from each reminder's due instant; the tick (the beat's task) "
            f"started {LOOKAHEAD.total_seconds():.0f} s before it, as the beat's tick of the "
            "minute before does, and queued each batch to run at the instant (eta). "
            "The tick sends 100 ids per message; the baseline sends one message per "
            "reminder, on a queue no worker reads, after delivery has finished.",
        )  # fmt: skip


def process_tree(pid: int) -> list[str]:
    pids, found = [str(pid)], []
    while pids:
        current = pids.pop()
        try:
            pids += Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        found.append(current)
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time so far of a process and its children."""
    ticks = 0
    for current in process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) summed over a process and its children."""
    total = 0
    pids = [str(pid)]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
        pids += children
    return total / 1024


if __name__ == "__main__":
    main()
