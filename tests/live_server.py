"""The product as it runs for real, on a SQLite file of its own: gunicorn with several
worker processes, a process writing as the Celery worker and beat do (the reminder tick,
deliveries, the heartbeat), and patients posting check-ins at once from many threads.

Used by tests/test_sqlite_concurrent_writers.py and bench/concurrent_writers.py. Every
process gets DATABASE_URL pointing at the file, whatever database the caller's
environment names, so a CI run configured for PostgreSQL still exercises SQLite.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Runs in a child process: migrates the file and makes a clinic whose slots are all due,
# so the writer's ticks have reminders to create and deliver.
SETUP = """
import json, sys
from datetime import timedelta
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
# Set-up only: no fsync per migration, and cheap password hashes (the users sign in by token).
connection.cursor().execute("PRAGMA synchronous=OFF")
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
call_command("migrate", verbosity=0)
from django.utils import timezone
from knox.models import get_token_model
from prescriptions.reminders.plan import slots_reschedule
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory, PrescriptionFactory

with transaction.atomic():
    clinic = ClinicFactory(timezone="UTC")
    clinician = ClinicianFactory(clinic=clinic)
    now = timezone.now()
    due = [("morning", (now - timedelta(minutes=2)).strftime("%H:%M")),
           ("bedtime", (now - timedelta(minutes=1)).strftime("%H:%M"))]
    patients = []
    for _ in range(int(sys.argv[1]) + 1):
        patient = PatientFactory(clinic=clinic, timezone="UTC")
        prescription = PrescriptionFactory(
            patient=patient, clinician=clinician, start_date=now.date() - timedelta(days=7),
            slots=due,
        )
        slots_reschedule(prescription_id=prescription.id)
        patients.append({"token": get_token_model().objects.create(user=patient.user)[1],
                         "prescription": prescription.id})
    clinician_token = get_token_model().objects.create(user=clinician)[1]
print(json.dumps({
    "clinician": clinician_token,
    "patients": patients[1:],
    "to_end": patients[0]["prescription"],
}))
"""

# The writer: what the worker and beat do to the database, back to back, until stopped.
WRITER = """
import signal
import django
django.setup()
from config import celery_app
from prescriptions.reminders.tick import reminders_tick
from prescriptions.tasks import deliver_reminders
from prescriptions.alerts import evaluate_alerts
celery_app.conf.task_always_eager = True  # deliveries run here, as the worker would
stop = False
def halt(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, halt)
ticks = 0
while not stop:
    reminders_tick(deliver=deliver_reminders.delay)
    evaluate_alerts()
    ticks += 1
print(ticks, flush=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database: Path | str, var_dir: Path) -> dict:
    """The processes' environment: `database` a SQLite file or a database URL."""
    url = database if isinstance(database, str) else f"sqlite:///{database.resolve()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": "filesystem://",
        "VAR_DIR": str(var_dir),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(var_dir / "mail"),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "1",
        # Benchmarks and fuzzing send far more than a person would, as one user each.
        "USER_THROTTLE_RATE": "1000000/min",
    }
    for name in ("EMAIL_URL", "REDIS_URL"):
        env.pop(name, None)
    return env


def prepare(database: Path, var_dir: Path, patients: int) -> dict:
    """Migrates the file and answers tokens: {clinician, patients: [{token, prescription}],
    to_end}."""
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(patients)],
        cwd=BASE_DIR,
        env=environment(database, var_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"setting up the SQLite file failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@contextmanager
def serving(database: Path | str, var_dir: Path, *, port: int, workers: int = 2):
    """gunicorn, as bin/run and docker-compose start it, until the block ends."""
    log_path = var_dir / "gunicorn.log"
    with log_path.open("wb") as log:
        web = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60",
                # gunicorn's control socket is one path per machine user: others may run one.
                "--no-control-socket",
            ],
            cwd=BASE_DIR, env=environment(database, var_dir), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answers (503/degraded is fine here)
            except OSError:
                if web.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        yield web
    finally:
        _stop(web)


@contextmanager
def running(database: Path, var_dir: Path, *, port: int, workers: int = 2):
    """gunicorn plus the writer, on the file. Yields the writer process; the number of
    rounds it made is on its stdout once stopped."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER],
        cwd=BASE_DIR,
        env=environment(database, var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        with serving(database, var_dir, port=port, workers=workers):
            yield writer
    finally:
        _stop(writer)


@dataclass
class Burst:
    statuses: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)  # (status, body) of every non-2xx answer
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def _call(url: str, token: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def burst(port: int, data: dict, *, posts_per_patient: int) -> Burst:
    """Every patient posts `posts_per_patient` check-ins from a thread of their own, all at
    once, while the clinician ends another patient's prescription."""
    base = f"http://127.0.0.1:{port}/api/v1"
    result = Burst()
    lock = threading.Lock()
    start = threading.Barrier(len(data["patients"]) + 1)

    def record(answer: tuple[int, str]) -> None:
        with lock:
            result.statuses[answer[0]] += 1
            if answer[0] >= 300:
                result.failures.append(answer)

    def patient(who: dict) -> None:
        start.wait()
        for n in range(posts_per_patient):
            body = {
                "prescription": who["prescription"],
                "slot": "other",
                "performed_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                "pain_before": n % 11,
                "pain_after": (n + 1) % 11,
                "notes": f"session {n}",
            }
            record(_call(f"{base}/check-ins/", who["token"], body))

    def clinician() -> None:
        start.wait()
        record(_call(f"{base}/prescriptions/{data['to_end']}/end/", data["clinician"], {}))

    threads = [threading.Thread(target=patient, args=(p,)) for p in data["patients"]]
    threads.append(threading.Thread(target=clinician))
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result
