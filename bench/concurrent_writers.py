"""Bench: the embedded default (one SQLite file) under concurrent writers.

    .venv/bin/python bench/concurrent_writers.py --patients 24 --posts 10 --workers 2

It makes a throwaway SQLite file (whatever DATABASE_URL says), starts gunicorn with
`--workers` processes on it and a process writing as the Celery worker and beat do (the
reminder tick and deliveries, alert evaluation, back to back), then has `--patients`
patients post `--posts` check-ins each from a thread of their own, all at once, while a
clinician ends a prescription. It reports the answers by status, the errors, the rows
stored against the 201s, and requests per second. `--port` picks the port (default: free).
"""

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import live_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=24, help="concurrent writers")
    parser.add_argument("--posts", type=int, default=10, help="check-ins per patient")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kneerocks-bench-") as folder:
        folder = Path(folder)
        database = folder / "clinic.sqlite3"
        began = time.perf_counter()
        data = live_server.prepare(database, folder, args.patients)
        print(f"sqlite: {args.patients} patients ready in {time.perf_counter() - began:.1f} s")
        port = args.port or live_server.free_port()
        with live_server.running(database, folder, port=port, workers=args.workers) as writer:
            burst = live_server.burst(port, data, posts_per_patient=args.posts)
        rounds = (writer.stdout.read() or "0").strip()
        with sqlite3.connect(database) as db:
            (stored,) = db.execute("SELECT count(*) FROM prescriptions_checkin").fetchone()
            (reminders,) = db.execute("SELECT count(*) FROM prescriptions_reminder").fetchone()

    errors = burst.requests - burst.statuses[201] - burst.statuses[200]
    print(
        f"gunicorn {args.workers} workers + 1 worker-like writer ({rounds} tick rounds, "
        f"{reminders} reminders written)"
    )
    print(
        f"writers {args.patients + 1} (patients + clinician), requests {burst.requests}, "
        f"errors {errors}, answers {dict(sorted(burst.statuses.items()))}"
    )
    print(
        f"check-ins stored {stored} of {burst.statuses[201]} answered 201; "
        f"{burst.requests / burst.seconds:.1f} requests/s over {burst.seconds:.1f} s"
    )
    for status, body in burst.failures[:3]:
        print(f"  e.g. {status}: {body[:300]}")
    return 1 if errors or stored != burst.statuses[201] else 0


if __name__ == "__main__":
    sys.exit(main())
