"""How long the clinic adherence report takes for 500 patients over 90 days, and how many
queries it runs: one page (by name and by adherence) and the whole CSV export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_adh \
        .venv/bin/python bench/clinic_adherence.py

It builds a throwaway database next to the configured one (`bench_<name>`), fills it, takes
the figures through the real HTTP stack (Bearer token, views, JSON/CSV rendering) and drops
the database again. Options: --patients, --days, --repeat.
"""

import argparse
from datetime import UTC, datetime

# harness sets Django up, so it comes before any project import.
from harness import filled_clinic, measure, signed_in, throwaway_database

from prescriptions.alerts import evaluate_alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with throwaway_database():
        run(args)


def run(args) -> None:
    clinic, clinician, start, today = filled_clinic(patients=args.patients, days=args.days)
    client = signed_in(clinician)
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
