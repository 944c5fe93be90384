"""A check-in's cost in process, without gunicorn or wrk: the POST through Django's test
client and the service alone, median milliseconds and queries, on the configured database
(SQLite by default) in a throwaway copy.

    .venv/bin/python bench/checkin_cost.py [--repeat 400]

For comparing two versions of the code on one machine (run each, same arguments); the
throughput under load is bench/checkin_post.py's (PostgreSQL, wrk).
"""

import argparse
import os
from datetime import UTC, date, datetime, timedelta

# One patient posts hundreds of times: the per-user throttle is lifted, as checkin_post.py
# lifts it, before harness sets Django up.
os.environ.setdefault("USER_THROTTLE_RATE", "100000/s")

from harness import measure, signed_in, throwaway_database

from clinic.models import Clinic, User
from patients.services import patient_enrol
from prescriptions import checkins, services
from prescriptions.models import Prescription, Protocol


def prescription() -> Prescription:
    clinic = Clinic.objects.create(name="Bench cost", slug="bench-cost", timezone="UTC")
    clinician = User.objects.create(
        username="cost.dr@example.test", role=User.Role.CLINICIAN, clinic=clinic
    )
    patient = patient_enrol(
        clinic=clinic,
        enrolled_by=clinician,
        first_name="Cost",
        last_name="Bench",
        email="cost.patient@example.test",
    ).patient
    User.objects.filter(id=patient.user_id).update(is_active=True)  # as if activated
    protocol = Protocol.objects.filter(slug="knee-rocks").first() or Protocol.objects.create(
        slug="knee-rocks",
        name="Knee rocks",
        summary="Bench.",
        range_limit_degrees=30,
        heat_prep_minutes=10,
    )
    return services.prescription_create(
        patient=patient,
        clinician=clinician,
        protocol=protocol,
        start_date=date.today() - timedelta(days=7),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=400)
    args = parser.parse_args()
    with throwaway_database():
        rx = prescription()
        client = signed_in(rx.patient.user)
        body = {
            "prescription": rx.id,
            "slot": "other",
            "performed_at": datetime.now(UTC).isoformat(),
            "pain_before": 3,
        }
        for _ in range(20):  # warm up
            client.post("/api/v1/check-ins/", body, format="json")
        measure(
            "check-in POST",
            lambda: client.post("/api/v1/check-ins/", body, format="json"),
            args.repeat,
        )
        measure(
            "checkin_record (the service)",
            lambda: checkins.checkin_record(
                prescription=rx, slot="other", performed_at=datetime.now(UTC), pain_before=3
            ),
            args.repeat,
        )


if __name__ == "__main__":
    main()
