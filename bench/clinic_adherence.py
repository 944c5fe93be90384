"""Clinic adherence at 1,000 and 10,000 patients x 90 days against a raw GROUP BY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_ledger_bench \
        .venv/bin/python bench/clinic_adherence.py [--sizes 1000 10000] [--days 90]

Runs on the configured database (migrated), in clinics of its own (`bench-<size>`), made
once by `manage.py seed_bulk` and kept for the next run. For each size, through the real
HTTP stack (Bearer token, views, JSON/CSV): a page of 100 by name, by -adherence_pct, page
3 by current_streak_days, the whole CSV (read to the end), each beside the baseline
measured in the same run: one raw SQL GROUP BY over the same clinic's check-ins of the
same 28 days. Target: at most 1.5 times the baseline, the same query count at both sizes.
The CSV's peak Python memory (tracemalloc) shows it streams. Results go to RESULTS.md.
"""

import argparse
import time
import tracemalloc
from datetime import timedelta
from functools import partial

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

# harness sets Django up, so it comes before any project import.
from harness import record, signed_in, timed

from clinic.models import Clinic

ZONES = "UTC,America/New_York,Europe/London,Asia/Kolkata"
TARGET = 1.5

RAW = """
SELECT c.patient_id, COUNT(*),
    SUM(CASE WHEN c.slot = 'morning' THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.slot = 'bedtime' THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.slot = 'night' THEN 1 ELSE 0 END),
    AVG(c.pain_before)
FROM prescriptions_checkin c JOIN patients_patient p ON p.id = c.patient_id
WHERE p.clinic_id = %s AND c.local_date BETWEEN %s AND %s
GROUP BY c.patient_id
"""


def clinic_of(size: int, days: int) -> Clinic:
    slug = f"bench-{size}"
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None or clinic.patients.count() != size:
        call_command("seed_bulk", patients=size, days=days, clinic=slug, zones=ZONES, verbosity=0)
        clinic = Clinic.objects.get(slug=slug)
    return clinic


def raw_group_by(clinic: Clinic):
    today = timezone.now().date()
    with connection.cursor() as cursor:
        cursor.execute(RAW, [clinic.id, today - timedelta(days=27), today])
        return cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    rows = []
    queries_by_measure = {}
    for size in args.sizes:
        began = time.perf_counter()
        clinic = clinic_of(size, args.days)
        print(f"{size} patients ready in {time.perf_counter() - began:.0f} s")
        client = signed_in(clinic.users.get(role="clinician"))
        url = "/api/v1/adherence/"

        def csv_all(client=client, url=url):
            response = client.get(url, {"format": "csv"})
            return b"".join(response.streaming_content)

        measures = {
            "page of 100 by last_name": partial(client.get, url, {"page_size": 100}),
            "page of 100 by -adherence_pct": partial(
                client.get, url, {"page_size": 100, "ordering": "-adherence_pct"}
            ),
            "page 3 by current_streak_days": partial(
                client.get, url, {"page_size": 100, "page": 3, "ordering": "current_streak_days"}
            ),
            "CSV, every row": csv_all,
        }
        for label, call in measures.items():
            # The baseline right before each figure, so both see the same machine.
            baseline, _, _ = timed(lambda clinic=clinic: raw_group_by(clinic), args.repeat)
            seconds, queries, _ = timed(call, args.repeat)
            queries_by_measure.setdefault(label, []).append(queries)
            ratio = seconds / baseline
            rows.append(
                [
                    f"{size:,}",
                    label,
                    f"{seconds * 1000:.0f} ms",
                    f"{baseline * 1000:.0f} ms",
                    f"{ratio:.2f}x",
                    f"<= {TARGET}x",
                    "met" if ratio <= TARGET else "missed",
                    queries,
                ]
            )
        tracemalloc.start()
        body = csv_all()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(
            [
                f"{size:,}",
                "CSV peak Python memory (tracemalloc)",
                f"{peak / 2**20:.1f} MiB for {len(body) / 2**20:.1f} MiB of CSV",
                "",
                "",
                "flat with size",
                "",
                "",
            ]
        )
    same = all(len(set(counts)) == 1 for counts in queries_by_measure.values())
    record(
        "Clinic adherence (API, PostgreSQL) against a raw GROUP BY of the same check-ins",
        rows,
        ["patients", "request", "median", "raw GROUP BY", "ratio", "target", "", "queries"],
        notes=(
            f"Same query count at every size: {'yes' if same else 'NO'} "
            f"({', '.join(f'{k}: {v}' for k, v in queries_by_measure.items())}). "
            f"{args.days} days of check-ins from `seed_bulk`, patients in {ZONES}; "
            f"median of {args.repeat}; the raw GROUP BY covers the last 28 days, as the "
            "default report does."
        ),
    )


if __name__ == "__main__":
    main()
