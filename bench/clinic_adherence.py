"""How long the clinic adherence report takes for 500 patients over 90 days, and how many
queries it runs: one page (by name and by adherence) and the whole CSV export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_adh \
        .venv/bin/python bench/clinic_adherence.py

It builds a throwaway database next to the configured one (`bench_<name>`), fills it, takes
the figures through the real HTTP stack (Bearer token, views, JSON/CSV rendering) and drops
the database again. Options: --patients, --days, --repeat.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from knox.models import AuthToken  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from clinic.models import Clinic, User  # noqa: E402
from prescriptions.alerts import evaluate_alerts  # noqa: E402
from prescriptions.models import CheckIn  # noqa: E402
from tests.prescriptions.bulk import bulk_clinic  # noqa: E402


def measure(label: str, call, repeat: int) -> None:
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = call()
            timings.append(time.perf_counter() - started)
        status = getattr(response, "status_code", "-")
    print(
        f"{label:<44} {status!s:>4} {len(queries):>4} queries  "
        f"median {statistics.median(timings) * 1000:7.1f} ms  "
        f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    settings_dict = connection.settings_dict
    settings_dict["TEST"]["NAME"] = f"bench_{Path(str(settings_dict['NAME'])).stem}"
    original = settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


def run(args) -> None:
    today = date.today()
    start = today - timedelta(days=args.days - 1)
    clinic = Clinic.objects.create(name="Bench Clinic", slug="bench", timezone="UTC")
    clinician = User.objects.create(
        username="bench.dr@example.test", role=User.Role.CLINICIAN, clinic=clinic
    )
    began = time.perf_counter()
    bulk_clinic(clinic, clinician, args.patients, start=start, days=args.days)
    print(
        f"{connection.vendor}: {args.patients} patients x {args.days} days, "
        f"{clinician.prescriptions.count()} prescriptions, "
        f"{CheckIn.objects.count()} check-ins "
        f"(made in {time.perf_counter() - began:.1f} s)"
    )
    client = APIClient()
    _, token = AuthToken.objects.create(user=clinician)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    window = {"from": start.isoformat(), "to": today.isoformat()}

    def get(**params):
        return client.get("/api/v1/adherence/", {**window, **params})

    measure("page 1 by last_name (100 rows)", lambda: get(page_size=100), args.repeat)
    measure(
        "page 1 by -adherence_pct (100 rows)",
        lambda: get(page_size=100, ordering="-adherence_pct"),
        args.repeat,
    )
    measure(
        "page 3 by current_streak_days (100 rows)",
        lambda: get(page_size=100, page=3, ordering="current_streak_days"),
        args.repeat,
    )
    measure("CSV, every row", lambda: get(format="csv"), args.repeat)
    patient = clinic.patients.first()
    measure(
        "one patient's report (90 days, by_day)",
        lambda: client.get(f"/api/v1/patients/{patient.id}/adherence/", window),
        args.repeat,
    )
    measure(
        "evaluate_alerts, every patient",
        lambda: evaluate_alerts(now=datetime.now(UTC)),
        1,
    )


if __name__ == "__main__":
    main()
