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
from datetime import UTC, datetime, timedelta

# harness sets Django up, so it comes before any project import.
from harness import filled_clinic, measure, signed_in, throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with throwaway_database():
        run(args)


def run(args) -> None:
    clinic, clinician, _, today = filled_clinic(patients=args.patients, days=args.days)
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
