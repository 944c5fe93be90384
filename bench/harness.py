"""What the bench scripts share: Django set up from the command line, a throwaway database
beside the configured one, a clinic filled in bulk, and timing of calls with their queries."""

import os
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from knox.models import get_token_model  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from clinic.models import Clinic, User  # noqa: E402
from prescriptions.models import CheckIn  # noqa: E402
from tests.prescriptions.bulk import bulk_clinic  # noqa: E402


@contextmanager
def throwaway_database():
    """`bench_<name>` next to the configured database, dropped afterwards."""
    setup_test_environment()
    settings_dict = connection.settings_dict
    settings_dict["TEST"]["NAME"] = f"bench_{Path(str(settings_dict['NAME'])).stem}"
    original = settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


def filled_clinic(*, patients: int, days: int) -> tuple[Clinic, User, date, date]:
    """A clinic with `patients` patients checking in over the last `days` days."""
    today = date.today()
    start = today - timedelta(days=days - 1)
    clinic = Clinic.objects.create(name="Bench Clinic", slug="bench", timezone="UTC")
    clinician = User.objects.create(
        username="bench.dr@example.test", role=User.Role.CLINICIAN, clinic=clinic
    )
    began = time.perf_counter()
    bulk_clinic(clinic, clinician, patients, start=start, days=days)
    print(
        f"{connection.vendor}: {patients} patients x {days} days, "
        f"{CheckIn.objects.count()} check-ins (made in {time.perf_counter() - began:.1f} s)"
    )
    return clinic, clinician, start, today


def signed_in(user) -> APIClient:
    client = APIClient()
    _, token = get_token_model().objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def measure(label: str, call, repeat: int) -> None:
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = call()
            timings.append(time.perf_counter() - started)
    status = getattr(response, "status_code", "-")
    print(
        f"{label:<48} {status!s:>4} {len(queries):>4} queries  "
        f"median {statistics.median(timings) * 1000:7.1f} ms  "
        f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f})"
    )


# --- Results ---------------------------------------------------------------------------

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def timed(call, repeat: int) -> tuple[float, int, object]:
    """Median seconds of `repeat` calls, the queries of the last one, and its answer."""
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            answer = call()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings), len(queries), answer


def timed_beside(baseline, call, repeat: int) -> tuple[float, float, int]:
    """`baseline` and `call` in turn, `repeat` times each: the median seconds of each, and
    the queries of the last call. In turn, so that both are timed over the same moments of
    a shared machine, whose speed moves from one second to the next."""
    before, after = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        baseline()
        before.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            after.append(time.perf_counter() - started)
    return statistics.median(before), statistics.median(after), len(queries)


def load_now() -> str:
    """The machine's load averages (1, 5, 15 min): others share it."""
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def environment() -> str:
    import platform

    versions = [f"Python {platform.python_version()}", f"Django {django.get_version()}"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            versions.append(f"PostgreSQL {cursor.fetchone()[0].split()[0]}")
    else:
        versions.append(connection.vendor)
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs "
        f"({platform.processor() or 'unknown CPU'}); " + ", ".join(versions)
    )


def record(title: str, rows: list[list], header: list[str], notes: str = "") -> None:
    """Appends one run's table to bench/RESULTS.md (and prints it)."""
    command = " ".join(["python", *sys.argv])
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "",
        f"### {title} — {stamp}",
        "",
        f"- command: `{command}`",
        f"- machine: {environment()}",
        f"- load average at the end (1/5/15 min): {load_now()}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
    ]
    if notes:
        lines += ["", notes]
    text = "\n".join(lines) + "\n"
    print(text)
    with RESULTS.open("a") as results:
        results.write(text)
