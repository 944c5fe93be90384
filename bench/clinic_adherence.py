"""Clinic adherence at 1,000 and 10,000 patients x 90 days against a raw GROUP BY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_ledger_bench \
        .venv/bin/python bench/clinic_adherence.py [--sizes 1000 10000] [--days 90]

Runs on the configured database (migrated), in clinics of its own (`bench-<size>`), made
once by `manage.py seed_bulk` and kept for the next run. For each size, through the real
HTTP stack (Bearer token, views, JSON/CSV): a page of 100 by name, by -adherence_pct, page
3 by current_streak_days, the whole CSV (read to the end), each beside the baseline
measured in the same run: one raw SQL GROUP BY over the same clinic's check-ins of the
same 28 days. Target: at most 1.5 times the baseline, the same query count at both sizes.
The CSV's peak Python memory (tracemalloc) shows it streams. The stored rows
(prescriptions/clinic_store.py) are computed first, as the refresh every minute keeps
them, and the time that takes is reported; a page and the CSV are also measured with
every stored row outdated. Results go to RESULTS.md.
"""

import argparse
import time
import tracemalloc
from datetime import timedelta
from functools import partial

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

# harness sets Django up, so it comes before any project import.
from harness import record, signed_in, timed

from clinic.audit import _insert as audit_insert
from clinic.models import Clinic
from prescriptions.clinic_store import clinic_rows_refresh
from prescriptions.models import ClinicRowVersion

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


def vacuum_stored_rows() -> None:
    """As autovacuum would after so many rows rewritten (it is off on some machines)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE prescriptions_clinicrow, prescriptions_clinicrowversion")


def audit_entries(clinic: Clinic) -> None:
    """What an export writes to the audit trail besides its rows: an entry per patient
    (rolled back: measured, not kept)."""
    ids = list(clinic.patients.values_list("id", flat=True))
    with transaction.atomic():
        audit_insert(
            ids,
            at=timezone.now(),
            role="clinician",
            action="export",
            method="GET",
            path="/api/v1/adherence/",
            request_id="bench",
        )
        with connection.cursor() as cursor:  # checks deferred to the commit, run now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)


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

        # Every row computed and stored, as after a new local date in every zone.
        ClinicRowVersion.objects.outdate(clinic.patients.values_list("id", flat=True))
        began = time.perf_counter()
        stored = clinic_rows_refresh(clinic_id=clinic.id)
        refreshed = time.perf_counter() - began
        print(f"{stored} stored rows computed in {refreshed:.1f} s")
        vacuum_stored_rows()
        rows.append(
            [
                f"{size:,}",
                "every row computed and stored (the refresh, in the background)",
                f"{refreshed * 1000:.0f} ms",
                "",
                "",
                "",
                "",
                "",
            ]
        )

        page_by_adherence = partial(
            client.get, url, {"page_size": 100, "ordering": "-adherence_pct"}
        )
        measures = {
            "page of 100 by last_name": partial(client.get, url, {"page_size": 100}),
            "page of 100 by -adherence_pct": partial(
                client.get, url, {"page_size": 100, "ordering": "-adherence_pct"}
            ),
            "page 3 by current_streak_days": partial(
                client.get, url, {"page_size": 100, "page": 3, "ordering": "current_streak_days"}
            ),
            "CSV, every row": csv_all,
            "page of 100 by -adherence_pct, every stored row outdated": page_by_adherence,
            "CSV, every row, every stored row outdated": csv_all,
        }
        for label, call in measures.items():
            # The baseline right before each figure, so both see the same machine.
            baseline, _, _ = timed(lambda clinic=clinic: raw_group_by(clinic), args.repeat)
            if "outdated" in label:
                ClinicRowVersion.objects.outdate(clinic.patients.values_list("id", flat=True))
            seconds, queries, _ = timed(call, args.repeat)
            if "outdated" in label:
                clinic_rows_refresh(clinic_id=clinic.id)
                vacuum_stored_rows()
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
        # The part of the CSV's time that is its audit trail: one entry per patient.
        baseline, _, _ = timed(lambda clinic=clinic: raw_group_by(clinic), args.repeat)
        seconds, _, _ = timed(lambda clinic=clinic: audit_entries(clinic), args.repeat)
        rows.append(
            [
                f"{size:,}",
                "of the CSV: its audit entries, one per patient (one INSERT)",
                f"{seconds * 1000:.0f} ms",
                f"{baseline * 1000:.0f} ms",
                f"{seconds / baseline:.2f}x",
                "",
                "",
                "",
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
            "default report does. The stored rows are computed first, as the refresh every "
            "minute keeps them; rows outdated since (a session fallen due during the run) "
            "are computed where they are read. The two 'outdated' rows show a read when "
            "none holds (every version raised first), which computes every row afresh."
        ),
    )


if __name__ == "__main__":
    main()
