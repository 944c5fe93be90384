"""Latency and query counts of the core endpoints on a full clinic: the patient, prescription
and check-in lists (100-row pages, filtered by local dates), a check-in POST with and
without an Idempotency-Key, and a replayed retry.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_core \
        .venv/bin/python bench/core_api.py

It builds a throwaway database next to the configured one (`bench_<name>`), fills it with
--patients patients and --days days of check-ins, takes the figures through the real HTTP
stack (Bearer token, views, JSON rendering) and drops the database again.
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
from prescriptions.models import CheckIn  # noqa: E402
from tests.prescriptions.bulk import bulk_clinic  # noqa: E402


def measure(label: str, call, repeat: int) -> None:
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = call()
            timings.append(time.perf_counter() - started)
    print(
        f"{label:<48} {response.status_code:>4} {len(queries):>4} queries  "
        f"median {statistics.median(timings) * 1000:7.1f} ms  "
        f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f})"
    )


def signed_in(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=20)
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
    bulk_clinic(clinic, clinician, args.patients, start=start, days=args.days)
    print(
        f"{connection.vendor}: {args.patients} patients x {args.days} days, "
        f"{CheckIn.objects.count()} check-ins"
    )
    team = signed_in(clinician)
    week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    measure(
        "patients, page of 100",
        lambda: team.get("/api/v1/patients/", {"page_size": 100}),
        args.repeat,
    )
    measure(
        "prescriptions, page of 100",
        lambda: team.get("/api/v1/prescriptions/", {"page_size": 100}),
        args.repeat,
    )
    measure(
        "check-ins of the last 7 days, page of 100",
        lambda: team.get("/api/v1/check-ins/", {"page_size": 100, **week}),
        args.repeat,
    )
    measure(
        "check-ins, page 50 of 100",
        lambda: team.get("/api/v1/check-ins/", {"page_size": 100, "page": 50}),
        args.repeat,
    )

    patient = clinic.patients.select_related("user").first()
    prescription = patient.prescriptions.get()
    client = signed_in(patient.user)
    counter = iter(range(10**9))

    def body():
        return {
            "prescription": prescription.id,
            "slot": "other",
            "performed_at": datetime.now(UTC).isoformat(),
            "pain_before": 4,
            "pain_after": 3,
        }

    measure("POST check-in", lambda: client.post("/api/v1/check-ins/", body()), args.repeat)
    measure(
        "POST check-in with a new Idempotency-Key",
        lambda: client.post(
            "/api/v1/check-ins/", body(), HTTP_IDEMPOTENCY_KEY=f"bench-{next(counter)}"
        ),
        args.repeat,
    )
    retry = body()
    client.post("/api/v1/check-ins/", retry, HTTP_IDEMPOTENCY_KEY="bench-retry")
    measure(
        "POST check-in retried (replayed)",
        lambda: client.post("/api/v1/check-ins/", retry, HTTP_IDEMPOTENCY_KEY="bench-retry"),
        args.repeat,
    )


if __name__ == "__main__":
    main()
