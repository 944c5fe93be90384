"""Clinic adherence at 1,000 and 10,000 patients x 90 days against a raw GROUP BY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_ledger_bench \
        .venv/bin/python bench/clinic_adherence.py [--sizes 1000 10000] [--days 90]

Runs on the configured database (migrated), in clinics of its own (`bench-<size>`), made
once by `manage.py seed_bulk` and kept for the next run. For each size, through the real
HTTP stack (Bearer token, views, JSON/CSV): a page of 100 by name, by -adherence_pct, page
3 by current_streak_days, the whole CSV (read to the end), each beside the baseline,
timed in turn with it: one raw SQL GROUP BY over the same clinic's check-ins of the same
28 days. The CSV's peak Python memory (tracemalloc) shows it streams.

A page (by -adherence_pct) and the CSV are measured in four states, each with its target:
- stored: the stored rows (prescriptions/clinic_store.py) as the refresh every minute
  leaves them (its own time reported), <= 1.5x;
- nothing stored: every stored row outdated, so every row is computed, <= 3x;
- explicit range: `from`/`to` given (the last 28 days), never read from the stored rows,
  <= 3x;
- no statistics: the planner's statistics of the project's tables deleted (pg_statistic,
  as superuser) and autovacuum off for them, as after a restore or a bulk load before
  autovacuum runs; nothing stored, and the refresh timed in that state too; <= 10x.
  ANALYZE puts the statistics back afterwards and autovacuum is switched back on.
The same query count at both sizes. Results go to RESULTS.md.
"""

import argparse
import time
import tracemalloc
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from functools import partial

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

# harness sets Django up, so it comes before any project import.
from harness import record, signed_in, timed, timed_beside

from clinic.audit import _insert as audit_insert
from clinic.models import AuditEntry, Clinic
from prescriptions.adherence import clinic_rows_refresh
from prescriptions.models import ClinicRowVersion

ZONES = "UTC,America/New_York,Europe/London,Asia/Kolkata"
# Times the raw GROUP BY, by state.
TARGETS = {"stored": 1.5, "nothing stored": 3.0, "explicit range": 3.0, "no statistics": 10.0}

# The project's tables (those of the public schema).
TABLES = """SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'"""

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


@contextmanager
def no_statistics():
    """The planner without statistics, as after a restore or a bulk load before autovacuum
    runs: autovacuum held off the tables, their pg_statistic rows deleted (superuser);
    ANALYZE and autovacuum back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute(TABLES)
        tables = [name for _, name in cursor.fetchall()]
        for name in tables:
            cursor.execute(f'ALTER TABLE "{name}" SET (autovacuum_enabled = off)')
        cursor.execute(f"DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM ({TABLES}) t)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in tables:
                cursor.execute(f'ALTER TABLE "{name}" RESET (autovacuum_enabled)')
            cursor.execute("ANALYZE")


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


def table_row(size: int, label: str, *cells) -> list:
    """A row of the results table: its eight columns, those not given left empty."""
    return [f"{size:,}", label, *cells, *[""] * (6 - len(cells))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    rows = []
    queries_by_measure = {}
    # Each CSV adds an audit entry per patient, so that the trail grows run by run (some
    # 400,000 entries a run at both sizes), and the CSV's entries cost more as it does.
    trail = AuditEntry.objects.count()
    for size in args.sizes:
        began = time.perf_counter()
        clinic = clinic_of(size, args.days)
        print(f"{size} patients ready in {time.perf_counter() - began:.0f} s")
        client = signed_in(clinic.users.get(role="clinician"))
        url = "/api/v1/adherence/"

        def csv_all(client=client, url=url, extra=None):
            response = client.get(url, {"format": "csv"} | (extra or {}))
            return b"".join(response.streaming_content)

        # Every row computed and stored, as after a new local date in every zone.
        ClinicRowVersion.objects.outdate(clinic.patients.values_list("id", flat=True))
        began = time.perf_counter()
        stored = clinic_rows_refresh(clinic_id=clinic.id)
        refreshed = time.perf_counter() - began
        print(f"{stored} stored rows computed in {refreshed:.1f} s")
        vacuum_stored_rows()
        rows.append(
            table_row(
                size,
                "every row computed and stored (the refresh, in the background)",
                f"{refreshed * 1000:.0f} ms",
            )
        )

        today = timezone.now().date()
        explicit = {"from": (today - timedelta(days=27)).isoformat(), "to": today.isoformat()}
        page = {"page_size": 100, "ordering": "-adherence_pct"}
        # label: (state, call, whether every stored row is outdated first)
        measures = {
            "page of 100 by last_name": (
                "stored",
                partial(client.get, url, {"page_size": 100}),
                False,
            ),
            "page of 100 by -adherence_pct": ("stored", partial(client.get, url, page), False),
            "page 3 by current_streak_days": (
                "stored",
                partial(
                    client.get,
                    url,
                    {"page_size": 100, "page": 3, "ordering": "current_streak_days"},
                ),
                False,
            ),
            "CSV, every row": ("stored", csv_all, False),
            "page of 100 by -adherence_pct, nothing stored": (
                "nothing stored",
                partial(client.get, url, page),
                True,
            ),
            "CSV, every row, nothing stored": ("nothing stored", csv_all, True),
            "page of 100 by -adherence_pct, explicit from/to": (
                "explicit range",
                partial(client.get, url, page | explicit),
                False,
            ),
            "CSV, every row, explicit from/to": (
                "explicit range",
                partial(csv_all, extra=explicit),
                False,
            ),
            "page of 100 by -adherence_pct, no statistics, nothing stored": (
                "no statistics",
                partial(client.get, url, page),
                True,
            ),
            "CSV, every row, no statistics, nothing stored": ("no statistics", csv_all, True),
        }
        for label, (state, call, outdated) in measures.items():
            target = TARGETS[state]
            raw = partial(raw_group_by, clinic)
            if state == "no statistics":
                # The baseline right before, with statistics (without, its own plan may
                # fall off a cliff too).
                baseline, _, _ = timed(raw, args.repeat)
            with no_statistics() if state == "no statistics" else nullcontext():
                if outdated:
                    ClinicRowVersion.objects.outdate(clinic.patients.values_list("id", flat=True))
                if state != "no statistics":
                    # Each call beside a run of the baseline: both see the same machine.
                    baseline, seconds, queries = timed_beside(raw, call, args.repeat)
                else:
                    seconds, queries, _ = timed(call, args.repeat)
                if state == "no statistics" and "CSV" in label:
                    began = time.perf_counter()
                    clinic_rows_refresh(clinic_id=clinic.id)
                    refreshed = time.perf_counter() - began
                    rows.append(
                        table_row(
                            size,
                            "every row computed and stored (the refresh), no statistics",
                            f"{refreshed * 1000:.0f} ms",
                        )
                    )
            if outdated:
                clinic_rows_refresh(clinic_id=clinic.id)
                vacuum_stored_rows()
            queries_by_measure.setdefault(label, []).append(queries)
            ratio = seconds / baseline
            rows.append(
                table_row(
                    size,
                    label,
                    f"{seconds * 1000:.0f} ms",
                    f"{baseline * 1000:.0f} ms",
                    f"{ratio:.2f}x",
                    f"<= {target}x",
                    "met" if ratio <= target else "missed",
                    queries,
                )
            )
        # The part of the CSV's time that is its audit trail: one entry per patient.
        baseline, _, _ = timed(lambda clinic=clinic: raw_group_by(clinic), args.repeat)
        seconds, _, _ = timed(lambda clinic=clinic: audit_entries(clinic), args.repeat)
        rows.append(
            table_row(
                size,
                "of the CSV: its audit entries, one per patient (one INSERT)",
                f"{seconds * 1000:.0f} ms",
                f"{baseline * 1000:.0f} ms",
                f"{seconds / baseline:.2f}x",
            )
        )
        tracemalloc.start()
        body = csv_all()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(
            table_row(
                size,
                "CSV peak Python memory (tracemalloc)",
                f"{peak / 2**20:.1f} MiB for {len(body) / 2**20:.1f} MiB of CSV",
                "",
                "",
                "flat with size",
            )
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
            f"median of {args.repeat}, each call timed in turn with a run of the raw GROUP "
            "BY, which covers the last 28 days, as the default report does. The stored rows "
            "are computed first, as the refresh every minute keeps them; rows outdated since "
            "(a session fallen due during the run) are computed where they are read. "
            "'nothing stored': every version raised first, so every row is computed afresh. "
            "'no statistics': pg_statistic rows of the project's tables deleted and "
            "autovacuum off for them (the baseline timed "
            "with statistics, right before), then ANALYZE. "
            f"The audit trail held {trail:,} entries at the start of the run."
        ),
    )


if __name__ == "__main__":
    main()
