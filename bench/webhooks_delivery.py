"""Clinic webhooks on PostgreSQL and Redis with a real worker and beat: what one active
endpoint costs a check-in, and how long 10,000 events take to reach the receiver.

    .venv/bin/python bench/webhooks_delivery.py [--port 8171] [--seconds 12] [--events 10000]

DATABASE_URL defaults to the database kr_bench_webhooks on 127.0.0.1 (created when
missing, migrated), CELERY_BROKER_URL to Redis db 14 (emptied first: the bench's own).
WEBHOOKS_ALLOW_LOCAL=1 for every process: the receiver is an HTTP server on 127.0.0.1 in
a thread of this script (bench/hook_receiver.py), answering at once (--receiver-ms).

a) Check-in POST throughput under gunicorn (bench/checkin_post.py's server, wrk script and
   patient), the clinic without an active endpoint and with one for every event type, in
   turn for --rounds rounds; check-ins/s and events/s (the events each round wrote per
   check-in it stored), and their ratio. After each round with the endpoint the bench
   waits until the worker has delivered it all, so that the next round starts even.
b) Delivery lag: --events events written through clinic.events.record_each (the fan-out
   runs: one delivery each, a task per transaction), --batch per transaction, as fast as
   they go; the receiver notes when each webhook-id first arrives: lag = arrival -
   event.at, p50/p99/max, and the time from the first event to the last arrival.

One worker (--concurrency processes, Celery's prefork pool) and beat (its sweep every
10 s) run throughout. Results are appended to bench/RESULTS.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psycopg

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kr_bench_webhooks")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="kr-bench-webhooks-"))
os.environ.update(WEBHOOKS_ALLOW_LOCAL="1", USER_THROTTLE_RATE="100000/s", LOG_LEVEL="WARNING")
for _name in ("REDIS_URL", "EMAIL_URL"):
    os.environ.pop(_name, None)


def database_ready(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


database_ready(os.environ["DATABASE_URL"])

from checkin_post import combined, patient_and_token, serve, wrk, wrk_script  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from harness import record  # noqa: E402
from hook_receiver import Receiver  # noqa: E402

from clinic import events  # noqa: E402
from clinic.models import Event  # noqa: E402
from config import celery_app  # noqa: E402
from prescriptions.models import CheckIn  # noqa: E402
from webhooks import services  # noqa: E402
from webhooks.models import Delivery, Endpoint  # noqa: E402

BASE = Path(__file__).resolve().parent.parent
VAR = Path(os.environ["VAR_DIR"])


def celery(name: str, *args: str) -> subprocess.Popen:
    log = (VAR / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", name, "--loglevel=WARNING", *args],
        cwd=BASE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    """SIGTERM: a warm shutdown (the worker finishes its tasks, gunicorn its requests)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def drained(endpoint: Endpoint, timeout: float) -> float:
    """Seconds until the endpoint has no pending delivery."""
    started = time.monotonic()
    pending = Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING)
    while pending.exists():
        if time.monotonic() - started > timeout:
            sys.exit(f"webhooks bench: deliveries still pending after {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its children (gunicorn's or Celery's pool)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


def stored(clinic_id: int) -> tuple[int, int]:
    """The clinic's check-ins and events so far."""
    return (
        CheckIn.objects.filter(patient__clinic_id=clinic_id).count(),
        Event.objects.filter(clinic_id=clinic_id).count(),
    )


def throughput(args, endpoint: Endpoint, script: str, web: int, worker: int) -> dict[bool, dict]:
    """Rounds of (no active endpoint, one active endpoint): wrk's figures per side, and the
    CPU the web server (`web`, gunicorn's pid) and the worker spent per check-in."""
    url = f"http://127.0.0.1:{args.port}/api/v1/check-ins/"
    wrk(url, script, 2, 2)  # warm up
    turns = max(1, args.seconds // args.rounds)
    runs, drains = {False: [], True: []}, []
    for _ in range(args.rounds):
        for active in (False, True):
            Endpoint.objects.filter(id=endpoint.id).update(is_active=active)
            checkins, written = stored(endpoint.clinic_id)
            cpu = cpu_seconds(web), cpu_seconds(worker)
            run = wrk(url, script, args.connections, turns)
            if active:
                drains.append(drained(endpoint, timeout=300))
            checkins_after, written_after = stored(endpoint.clinic_id)
            made = max(1, checkins_after - checkins)
            run["per_checkin"] = (written_after - written) / made
            run["web_ms"] = (cpu_seconds(web) - cpu[0]) * 1000 / made
            run["worker_ms"] = (cpu_seconds(worker) - cpu[1]) * 1000 / made
            runs[active].append(run)
    sides = {}
    for active, side in runs.items():
        sides[active] = combined(side)
        sides[active]["events"] = statistics.mean(r["rate"] * r["per_checkin"] for r in side)
        for cpu in ("web_ms", "worker_ms"):
            sides[active][cpu] = statistics.mean(r[cpu] for r in side)
    sides[True]["drains"] = drains
    return sides


def lag(args, endpoint: Endpoint, receiver: Receiver, patient_id: int) -> dict:
    """Writes the events, waits for every one at the receiver; lags in seconds."""
    Endpoint.objects.filter(id=endpoint.id).update(is_active=True)
    with receiver.lock:
        receiver.posts.clear()
    after = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    started = time.time()
    for start in range(0, args.events, args.batch):
        rows = [(endpoint.clinic_id, {"patient": patient_id})] * min(
            args.batch, args.events - start
        )
        with transaction.atomic():
            events.record_each(events.Type.PATIENT_UPDATED, rows)
    written = time.time() - started
    wanted = {
        str(i)
        for i in Event.objects.filter(clinic_id=endpoint.clinic_id, id__gt=after).values_list(
            "id", flat=True
        )
    }
    # Delivered, in the database's eyes: then what the receiver got is all it will get.
    drained(endpoint, timeout=args.timeout)
    time.sleep(0.5)
    first: dict[str, tuple[float, float]] = {}
    repeats = 0
    with receiver.lock:
        posts = list(receiver.posts)
    for post in posts:
        if post.webhook_id not in wanted:
            continue
        if post.webhook_id in first:
            repeats += 1
            continue
        at = datetime.fromisoformat(post.payload["timestamp"]).timestamp()
        first[post.webhook_id] = (post.arrived - at, post.arrived)
    lags = sorted(lag for lag, _ in first.values())
    return {
        "events": len(wanted),
        "written": written,
        "p50": lags[len(lags) // 2],
        "p99": lags[int(len(lags) * 0.99) - 1],
        "max": lags[-1],
        "drain": max(arrived for _, arrived in first.values()) - started,
        "repeats": repeats,
        "lost": len(wanted) - len(first),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8171)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's sync workers")
    parser.add_argument("--concurrency", type=int, default=2, help="the Celery worker's")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=12, help="per side, over the rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100, help="events per transaction")
    parser.add_argument("--receiver-ms", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    celery_app.control.purge()
    rx, _ = patient_and_token()
    clinic_id = rx.patient.clinic_id
    Endpoint.objects.filter(clinic_id=clinic_id).delete()  # an earlier run's, with its log
    receiver = Receiver(delay=args.receiver_ms / 1000)
    endpoint = services.endpoint_create(
        clinic_id=clinic_id, url=receiver.url, events=["*"], by=rx.clinician, is_active=False
    )
    script = wrk_script(1)
    processes = [
        celery("worker", f"--concurrency={args.concurrency}", "--without-gossip",
               "--without-mingle", "--without-heartbeat"),
        celery("beat", "--schedule", str(VAR / "celerybeat-schedule")),
        serve("config.wsgi:application", args.port, args.workers, dict(os.environ)),
    ]  # fmt: skip
    try:
        sides = throughput(args, endpoint, script, processes[2].pid, processes[0].pid)
        lags = lag(args, endpoint, receiver, rx.patient_id)
    finally:
        for process in processes:
            stop(process)
        os.unlink(script)
        receiver.close()
    report(args, sides, lags)


def report(args, sides: dict[bool, dict], lags: dict) -> None:
    without, with_ = sides[False], sides[True]
    share = with_["rate"] / without["rate"]
    events_share = with_["events"] / without["events"]
    delivery_rate = lags["events"] / lags["drain"]
    record(
        "Clinic webhooks (PostgreSQL, Redis, a real worker): check-in cost and delivery lag",
        [
            [
                f"check-ins/s, {args.connections} connections",
                f"{with_['rate']:.0f} (p50 {with_['p50']:.0f} ms, p99 {with_['p99']:.0f} ms)",
                f"{without['rate']:.0f} (p50 {without['p50']:.0f} ms, p99 {without['p99']:.0f} ms)",
                f"{share:.0%}",
                ">= 80 %",
                "met" if share >= 0.8 else "missed",
            ],
            [
                "events/s written",
                f"{with_['events']:.0f}",
                f"{without['events']:.0f}",
                f"{events_share:.0%}",
                ">= 80 %",
                "met" if events_share >= 0.8 else "missed",
            ],
            [
                "CPU per check-in: web (gunicorn) + worker (Celery)",
                f"{with_['web_ms']:.1f} + {with_['worker_ms']:.1f} ms",
                f"{without['web_ms']:.1f} + {without['worker_ms']:.1f} ms",
                f"{(with_['web_ms'] + with_['worker_ms']) / without['web_ms']:.1f}x",
                "",
                "",
            ],
            [
                f"lag of {lags['events']:,} events (arrival - event.at)",
                f"p50 {lags['p50']:.1f} s, p99 {lags['p99']:.1f} s, max {lags['max']:.1f} s",
                f"written in {lags['written']:.1f} s "
                f"({lags['events'] / lags['written']:.0f} events/s)",
                f"delivered at {delivery_rate:.0f}/s, all in {lags['drain']:.1f} s",
                "p99 <= 60 s",
                "met" if lags["p99"] <= 60 else "missed",
            ],
        ],
        ["measure", "one active endpoint", "no endpoint (same run)", "ratio", "target", ""],
        notes=(
            f"gunicorn {args.workers} sync workers; wrk {args.rounds} rounds of "
            f"{max(1, args.seconds // args.rounds)} s per side, taking turns (mean rate, "
            "latencies of the median round); after each round with the endpoint, its "
            "deliveries drained in "
            + ", ".join(f"{s:.1f}" for s in with_["drains"])
            + f" s. Celery worker concurrency {args.concurrency} (prefork) and beat (sweep "
            f"every 10 s); receiver on 127.0.0.1 answering after {args.receiver_ms:.0f} ms. "
            f"Lag: {args.batch} events per transaction (a task each); same-id repeats "
            f"{lags['repeats']}, lost {lags['lost']}. Non-2xx answers: "
            f"{without['errors'] + with_['errors']}."
        ),
    )


if __name__ == "__main__":
    main()
