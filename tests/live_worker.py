"""A real Celery worker process for tests that must prove work crosses process boundaries.

Use the `live_worker` fixture (it implies `transactional_db`: the worker reads what the
test committed). The worker consumes a queue of its own, so a demo worker sharing the
broker never takes the test's messages, and it writes email and SMS files into a folder
of its own that the test reads through `live_worker.mail_dir` / `live_worker.sms_dir`.
An unreachable broker makes the test fail, never skip.
"""

import importlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection

from config import celery_app

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0


def database_url_for_worker() -> str:
    """The URL of the database this test run uses (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:memorydb"):
            raise RuntimeError("live_worker needs a file SQLite test database (TEST NAME)")
        return f"sqlite:///{Path(name).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"
    raise RuntimeError(f"live_worker does not know how to hand {db['ENGINE']} to a worker")


@dataclass
class LiveWorker:
    queue: str
    mail_dir: Path
    sms_dir: Path
    log_path: Path
    process: subprocess.Popen | None = None
    log_offset: int = 0

    def log(self) -> str:
        """What the worker logged since the current test began."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")

    def wait_for(self, condition: Callable[[], object], timeout: float = 20.0):
        """Polls `condition` until it returns something truthy; fails with the worker log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.1)
        pytest.fail(f"nothing happened within {timeout}s; worker log:\n{self.log()[-4000:]}")

    def mails(self) -> list[str]:
        """The messages the worker sent, one text per email, oldest first. The file backend
        creates the file before it writes the message and ends it with a rule: a file
        caught half-written is left for the next poll."""
        texts = [p.read_text() for p in sorted(self.mail_dir.glob("*.log"))]
        return [text for text in texts if text.rstrip().endswith("-" * 79)]


def _start(worker: LiveWorker) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url_for_worker(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # Same VAR_DIR as this process, so the embedded broker's folder is shared.
        "VAR_DIR": str(settings.VAR_DIR),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(worker.mail_dir),
        "SMS_FILE_PATH": str(worker.sms_dir),
        # Webhook receivers in the tests listen on 127.0.0.1.
        "WEBHOOKS_ALLOW_LOCAL": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("EMAIL_URL", None)
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool=solo", "--loglevel=INFO", "-Q", worker.queue, "-n", f"{worker.queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with worker.log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while " ready." not in worker.log():
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited ({process.returncode}):\n{worker.log()}")
        if time.monotonic() > deadline:
            _stop(process)
            pytest.fail(
                f"the Celery worker was not ready within {READY_TIMEOUT}s "
                f"(is the broker {settings.CELERY_BROKER_URL} reachable?):\n{worker.log()}"
            )
        time.sleep(0.1)
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def _live_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    # One worker for the whole run: starting and stopping one costs seconds. It holds no
    # transaction between tasks, so the per-test flush of transactional_db is not blocked.
    folder = tmp_path_factory.mktemp("live-worker")
    worker = LiveWorker(
        queue=f"kneerocks-test-{uuid.uuid4().hex[:12]}",
        mail_dir=folder / "mail",
        sms_dir=folder / "sms",
        log_path=folder / "worker.log",
    )
    with django_db_blocker.unblock():
        worker.process = _start(worker)
    try:
        yield worker
    finally:
        _stop(worker.process)
        # The embedded broker keeps a file per exchange; the test queue's is litter now.
        control = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("control_folder")
        if control:
            Path(control, f"{worker.queue}.exchange").unlink(missing_ok=True)


def restore_migration_data() -> None:
    """Puts back what data migrations made (the knee-rocks protocol, the shipped outcome
    questionnaires)."""
    knee_rocks = importlib.import_module("prescriptions.migrations.0002_knee_rocks_protocol")
    knee_rocks.create_knee_rocks(django_apps, None)
    instruments = importlib.import_module("outcomes.migrations.0002_shipped_instruments")
    instruments.load_shipped(django_apps, None)


@pytest.fixture(autouse=True)
def _migration_data_in_transactional_tests(request):
    """Transactional tests (a live worker, threads, subprocesses) see real commits, and the
    flush after each one empties every table, the data migrations' rows included; the next
    such test gets them back here. (Serialized rollback would do it too, but on PostgreSQL
    it clashes with the content types that flush re-creates.)"""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        restore_migration_data()


@pytest.fixture
def live_worker(request, transactional_db, _live_worker_process):
    worker = _live_worker_process
    request.node.add_marker("celery_worker")
    if worker.process.poll() is not None:
        pytest.fail(f"the Celery worker died ({worker.process.returncode}):\n{worker.log()}")
    for folder in (worker.mail_dir, worker.sms_dir):
        if folder.exists():
            shutil.rmtree(folder)
    worker.log_offset = worker.log_path.stat().st_size

    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = worker.queue
    try:
        yield worker
    finally:
        celery_app.conf.task_default_queue = previous_queue
