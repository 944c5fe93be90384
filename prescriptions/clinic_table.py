"""The clinic table: one adherence row per patient of a clinic, sorted, filtered, paged.

Read by the API (`GET adherence/`, JSON and CSV) and by the clinic team's web page alike.
`clinic_adherence` is the one entry point: it answers a sequence whose slices are one SQL
aggregate over the adherence ledger (ledger.py), sorted, filtered and paged in the
database in any ordering, so a page costs the same few queries however big the clinic.
The numbers are those of each patient's own report (adherence.py), which reads the same
ledger rows; tests hold the two together.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from prescriptions import adherence, ledger
from prescriptions.schedule import local_today

# What each ordering sorts on, in CLINIC_SQL's columns; ties go by name.
ORDERINGS = {
    "last_name": ("last_name", "first_name", "id"),
    "patient": ("id",),
    "last_check_in": ("last_check_in",),
    "open_alerts": ("open_alerts",),
    "adherence_pct": ("adherence_tenths",),
    "adherence_pct_7d": ("week_tenths",),
    "current_streak_days": ("current_streak_days",),
    "expected_sessions": ("expected_sessions",),
    "completed_sessions": ("completed_sessions",),
    "active_days": ("active_days",),
    "days_with_session": ("days_with_session",),
    "extra_sessions": ("extra_sessions",),
    "night_sessions": ("night_sessions",),
    "pain_change": ("pain_change_tenths",),
}

# Orderings by the patient's own columns: the page is cut from the patients first, so only
# that page's ledger is aggregated.
PATIENT_ORDERINGS = {"last_name", "patient"}

# The few things SQLite and PostgreSQL spell differently.
DIALECTS = {
    "postgresql": {
        "plus_days": "({} + {})",
        "days_between": "({} - {})",
        "greatest": "GREATEST({}, {})",
        "least": "LEAST({}, {})",
        "true": "TRUE",
    },
    "sqlite": {
        "plus_days": "date({}, '+' || {} || ' days')",
        "days_between": "CAST(julianday({}) - julianday({}) AS INTEGER)",
        "greatest": "MAX({}, {})",
        "least": "MIN({}, {})",
        "true": "1",
    },
}

CLINIC_SQL = """
WITH r AS (
    SELECT p.id, p.first_name, p.last_name, u.is_active AS activated,
        {d_from} AS d_from, {d_to} AS d_to, {today} AS today, {recent_from} AS recent_from,
        {future_from} AS future_from
    FROM patients_patient p JOIN clinic_user u ON u.id = p.user_id
    WHERE p.clinic_id = %(clinic)s {patients}{patient_page}
),
days AS (
    SELECT a.patient_id AS pid, a.local_date AS d, MAX(r.today) AS today,
        MAX(r.recent_from) AS recent_from,
        SUM({due_m} + {due_b}) AS expected,
        SUM({done_m} + {done_b}) AS completed,
        MAX(CASE WHEN a.active THEN 1 ELSE 0 END) AS active,
        SUM(a.check_ins) AS check_ins,
        SUM(a.night_check_ins) AS nights,
        SUM(a.pain_before_sum) AS pain,
        SUM(CASE WHEN a.morning_due_at IS NOT NULL THEN 1 ELSE 0 END
            + CASE WHEN a.bedtime_due_at IS NOT NULL THEN 1 ELSE 0 END) AS wanted,
        SUM(CASE WHEN a.morning_due_at IS NOT NULL AND a.morning_check_ins = 0 THEN 1 ELSE 0 END
            + CASE WHEN a.bedtime_due_at IS NOT NULL AND a.bedtime_check_ins = 0
                THEN 1 ELSE 0 END) AS open
    FROM prescriptions_adherenceday a
    JOIN r ON a.patient_id = r.id AND a.local_date BETWEEN r.d_from AND r.d_to
    -- Every patient's range lies in this one: it lets the database skip the other days.
    WHERE a.local_date BETWEEN %(first_from)s AND %(last_to)s
    GROUP BY a.patient_id, a.local_date
),
-- Each day with the patient's last past day that missed a session: the streak runs after it.
marked AS (
    SELECT days.*,
        MAX(CASE WHEN days.d < days.today AND days.active = 1
            AND days.completed < days.expected THEN days.d END)
            OVER (PARTITION BY days.pid) AS last_missed
    FROM days
),
-- PostgreSQL sums a sum as numeric: the casts keep the rounding divisions below integral.
agg AS (
    SELECT marked.pid,
        CAST(SUM(marked.expected) AS BIGINT) AS expected,
        CAST(SUM(marked.completed) AS BIGINT) AS completed,
        SUM(CASE WHEN marked.d <= marked.today THEN marked.active ELSE 0 END) AS active_days,
        SUM(CASE WHEN marked.d <= marked.today AND marked.active = 1 AND marked.check_ins > 0
            THEN 1 ELSE 0 END) AS days_with_session,
        SUM(marked.check_ins) AS check_ins,
        SUM(marked.nights) AS nights,
        CAST(SUM(CASE WHEN marked.d >= marked.recent_from THEN marked.pain ELSE 0 END)
            AS BIGINT) AS recent_pain,
        CAST(SUM(CASE WHEN marked.d >= marked.recent_from THEN marked.check_ins ELSE 0 END)
            AS BIGINT) AS recent_n,
        CAST(SUM(CASE WHEN marked.d >= marked.recent_from THEN marked.expected ELSE 0 END)
            AS BIGINT) AS week_expected,
        CAST(SUM(CASE WHEN marked.d >= marked.recent_from THEN marked.completed ELSE 0 END)
            AS BIGINT) AS week_completed,
        SUM(CASE WHEN marked.d < marked.today AND marked.active = 1 AND marked.expected > 0
            AND (marked.last_missed IS NULL OR marked.d > marked.last_missed)
            THEN 1 ELSE 0 END) AS streak,
        MAX(CASE WHEN marked.d = marked.today AND marked.wanted > 0 AND marked.open = 0
            THEN 1 ELSE 0 END) AS today_done
    FROM marked
    GROUP BY marked.pid
),
future AS (
    SELECT rx.patient_id AS pid, SUM({future_days}) AS days
    FROM prescriptions_prescription rx JOIN r ON r.id = rx.patient_id
    WHERE rx.status = 'active' AND {future_days} > 0
    GROUP BY rx.patient_id
),
first AS (
    SELECT rx.patient_id AS pid, MIN(rx.start_date) AS first_start
    FROM prescriptions_prescription rx JOIN r ON r.id = rx.patient_id
    WHERE EXISTS (
        SELECT 1 FROM prescriptions_adherenceday a
        WHERE a.prescription_id = rx.id AND a.active = {true}
    )
    GROUP BY rx.patient_id
),
baseline AS (
    SELECT a.patient_id AS pid, SUM(a.pain_before_sum) AS pain, SUM(a.check_ins) AS n
    FROM prescriptions_adherenceday a JOIN first f ON a.patient_id = f.pid
        AND a.local_date BETWEEN f.first_start AND {baseline_end}
    GROUP BY a.patient_id
),
report AS (
    SELECT r.id, r.first_name, r.last_name, r.d_from, r.d_to, r.today, r.activated,
        COALESCE(agg.expected, 0) AS expected_sessions,
        COALESCE(agg.completed, 0) AS completed_sessions,
        CASE WHEN agg.expected > 0
            THEN (2000 * agg.completed + agg.expected) / (2 * agg.expected) END
            AS adherence_tenths,
        CASE WHEN agg.week_expected > 0
            THEN (2000 * agg.week_completed + agg.week_expected) / (2 * agg.week_expected) END
            AS week_tenths,
        COALESCE(agg.active_days, 0) + COALESCE(future.days, 0) AS active_days,
        COALESCE(agg.days_with_session, 0) AS days_with_session,
        COALESCE(agg.streak, 0) + COALESCE(agg.today_done, 0) AS current_streak_days,
        COALESCE(agg.check_ins, 0) - COALESCE(agg.completed, 0) AS extra_sessions,
        COALESCE(agg.nights, 0) AS night_sessions,
        CASE WHEN baseline.n > 0 THEN (20 * baseline.pain + baseline.n) / (2 * baseline.n) END
            AS baseline_tenths,
        CASE WHEN agg.recent_n > 0
            THEN (20 * agg.recent_pain + agg.recent_n) / (2 * agg.recent_n) END
            AS recent_tenths
    FROM r
    LEFT JOIN agg ON agg.pid = r.id
    LEFT JOIN future ON future.pid = r.id
    LEFT JOIN baseline ON baseline.pid = r.id
)
SELECT report.*,
    (SELECT MAX(c.performed_at) FROM prescriptions_checkin c WHERE c.patient_id = report.id)
        AS last_check_in,
    (SELECT COUNT(*) FROM prescriptions_alert al
        WHERE al.patient_id = report.id AND al.acknowledged_at IS NULL) AS open_alerts,
    EXISTS (SELECT 1 FROM prescriptions_alert al WHERE al.patient_id = report.id
        AND al.acknowledged_at IS NULL AND al.kind = 'red_flag') AS red_flag_open,
    -- The current prescription and what it reads, as current_prescriptions.current_of
    -- chooses it: the latest started of those running, else the next to start, else the
    -- latest started of those ended (past its end date a prescription reads ended).
    COALESCE(
        (SELECT rx.status FROM prescriptions_prescription rx
            WHERE rx.patient_id = report.id AND rx.status <> 'ended'
                AND (rx.end_date IS NULL OR rx.end_date >= report.today)
                AND rx.start_date <= report.today
            ORDER BY rx.start_date DESC, rx.id DESC LIMIT 1),
        (SELECT rx.status FROM prescriptions_prescription rx
            WHERE rx.patient_id = report.id AND rx.status <> 'ended'
                AND rx.start_date > report.today
            ORDER BY rx.start_date, rx.id LIMIT 1),
        (SELECT 'ended' FROM prescriptions_prescription rx
            WHERE rx.patient_id = report.id LIMIT 1)
    ) AS prescription_status
FROM report
"""

# Columns of CLINIC_SQL (and the sort key after them), in order.
COLUMNS = [
    "patient",
    "first_name",
    "last_name",
    "from",
    "to",
    "today",
    "activated",
    "expected_sessions",
    "completed_sessions",
    "adherence_tenths",
    "week_tenths",
    "active_days",
    "days_with_session",
    "current_streak_days",
    "extra_sessions",
    "night_sessions",
    "baseline_tenths",
    "recent_tenths",
    "last_check_in",
    "open_alerts",
    "red_flag_open",
    "prescription_status",
]


def _tenths(value) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-1)


def _instant(value) -> datetime | None:
    if isinstance(value, str):  # SQLite
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class ClinicRows(Sequence):
    """The rows of a clinic table in order, each as a patient's own report has it (without
    by_day), computed from the ledger by the database: one query per page however many
    patients and whatever the ordering or filter. `len()` and slices are what a paginator
    asks; `stream()` reads every row from a server-side cursor, in constant memory.
    """

    def __init__(self, patients: QuerySet, *, clinic_id, start, end, ordering, below_pct, now):
        self.field = ordering.removeprefix("-")
        self.descending = ordering.startswith("-")
        self.clinic_id = clinic_id
        self.start, self.end, self.now = start, end, now
        self.below_pct = below_pct
        self.patients = patients
        self._count: int | None = None
        self._caught_up = False

    def __len__(self) -> int:
        if self._count is None:
            if self.below_pct is None:
                self._count = self.patients.count()
            else:
                with connection.cursor() as cursor:
                    sql, params = self._sql("")
                    cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)
                    self._count = cursor.fetchone()[0]
        return self._count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        if index.stop is None and index.start:
            return self[:][index.start :]
        start, stop = int(index.start or 0), index.stop
        page = "" if stop is None else f" LIMIT {max(int(stop) - start, 0)} OFFSET {start}"
        with connection.cursor() as cursor:
            cursor.execute(*self._sql(page))
            return [self._row(values) for values in cursor.fetchall()]

    def patient_ids(self) -> list[int]:
        """Whose rows these are (for the audit trail of an export), without computing them
        when no computed figure filters them."""
        if self.below_pct is None:
            return list(self.patients.values_list("id", flat=True))
        with connection.cursor() as cursor:
            sql, params = self._sql("")
            cursor.execute(f"SELECT id FROM ({sql}) listed", params)
            return [patient_id for (patient_id,) in cursor.fetchall()]

    def stream(self, chunk: int = 500):
        """Every row, read in chunks from a server-side cursor where the database has one."""
        with connection.chunked_cursor() as cursor:
            cursor.execute(*self._sql(""))
            while rows := cursor.fetchmany(chunk):
                yield from (self._row(values) for values in rows)

    def _sql(self, page: str) -> tuple[str, dict]:
        if not self._caught_up:
            # What fell due and the scheduler has not written yet (normally nothing).
            ledger.ledger_catch_up(clinic_id=self.clinic_id, now=self.now)
            self._caught_up = True
        dialect = DIALECTS[connection.vendor]
        params = {"clinic": self.clinic_id, "now": self.now}
        zones = sorted(set(self.patients.values_list("timezone", flat=True))) or ["UTC"]

        def by_zone(name: str, value_of) -> str:
            """A CASE on the patient's zone: the dates that depend on each one's today."""
            whens = []
            for n, zone in enumerate(zones):
                params[f"{name}_z{n}"] = zone
                params[f"{name}_v{n}"] = value_of(local_today(ZoneInfo(zone), self.now))
                whens.append(f"WHEN %({name}_z{n})s THEN %({name}_v{n})s")
            return f"CASE p.timezone {' '.join(whens)} END"

        def range_of(today: date) -> tuple[date, date]:
            if self.start is not None and self.end is not None:
                return self.start, self.end
            return adherence.default_range(today)

        def recent_from(today: date) -> date:
            start, end = range_of(today)
            return max(start, end - timedelta(days=adherence.RECENT_WEEK_DAYS - 1))

        patients_sql, patients_params = self.patients.values("id").query.sql_with_params()
        for n, value in enumerate(patients_params):
            params[f"p{n}"] = value
        patients_sql = patients_sql.replace("%s", "{}").format(
            *(f"%(p{n})s" for n in range(len(patients_params)))
        )

        def due(kind: str) -> str:
            return f"CASE WHEN a.{kind}_due_at <= %(now)s THEN 1 ELSE 0 END"

        def done(kind: str) -> str:
            return (
                f"CASE WHEN a.{kind}_due_at <= %(now)s AND a.{kind}_check_ins > 0 THEN 1 ELSE 0 END"
            )

        direction = "DESC" if self.descending else "ASC"
        keys = [f"{key} {direction} NULLS LAST" for key in ORDERINGS[self.field]]
        keys += ["last_name ASC", "first_name ASC", "id ASC"]
        patient_page = ""
        if page and self.field in PATIENT_ORDERINGS and self.below_pct is None:
            # Nothing computed decides the order or the filter: page the patients, then
            # aggregate only theirs (the outer ORDER BY keeps the same order).
            patient_page = " ORDER BY " + ", ".join(f"p.{key}" for key in keys) + page
            page = ""
        future_days = dialect["days_between"].format(
            dialect["least"].format("r.d_to", "COALESCE(rx.end_date, r.d_to)"),
            dialect["greatest"].format("r.future_from", "rx.start_date"),
        )
        ranges = [range_of(local_today(ZoneInfo(zone), self.now)) for zone in zones]
        params["first_from"] = min(start for start, _ in ranges)
        params["last_to"] = max(end for _, end in ranges)
        sql = CLINIC_SQL.format(
            d_from=by_zone("d_from", lambda today: range_of(today)[0]),
            d_to=by_zone("d_to", lambda today: range_of(today)[1]),
            today=by_zone("today", lambda today: today),
            recent_from=by_zone("recent", recent_from),
            future_from=by_zone(
                "future", lambda today: max(today + timedelta(days=1), range_of(today)[0])
            ),
            patients=f"AND p.id IN ({patients_sql})",
            patient_page=patient_page,
            due_m=due("morning"),
            due_b=due("bedtime"),
            done_m=done("morning"),
            done_b=done("bedtime"),
            future_days=f"({future_days} + 1)",
            true=dialect["true"],
            baseline_end=dialect["plus_days"].format(
                "f.first_start", adherence.PAIN_WINDOW_DAYS - 1
            ),
        )
        where = ""
        if self.below_pct is not None:
            params["below"] = self.below_pct * 10
            where = " WHERE adherence_tenths < %(below)s"
        sql = (
            "SELECT * FROM (SELECT s.*, s.recent_tenths - s.baseline_tenths AS pain_change_tenths"
            f" FROM ({sql}) s) rows{where} ORDER BY {', '.join(keys)}{page}"
        )
        return sql, params

    def _row(self, values) -> dict:
        row = dict(zip(COLUMNS, values, strict=False))
        baseline, recent = _tenths(row.pop("baseline_tenths")), _tenths(row.pop("recent_tenths"))
        change = None if baseline is None or recent is None else recent - baseline
        row["adherence_pct"] = _tenths(row.pop("adherence_tenths"))
        row["adherence_pct_7d"] = _tenths(row.pop("week_tenths"))
        row["pain"] = {
            "baseline": baseline,
            "recent": recent,
            "change": change,
            "meaningful": change is not None and abs(change) >= adherence.MEANINGFUL_PAIN_CHANGE,
        }
        del row["today"]
        for name in ("from", "to"):
            row[name] = _as_date(row[name])
        row["activated"] = bool(row["activated"])
        row["red_flag_open"] = bool(row["red_flag_open"])
        row["last_check_in"] = _instant(row["last_check_in"])
        return row


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def clinic_adherence(
    *,
    clinic_id: int,
    patients: QuerySet | None = None,
    start: date | None = None,
    end: date | None = None,
    ordering: str = "last_name",
    below_pct: float | None = None,
    now: datetime | None = None,
) -> ClinicRows:
    """The clinic's rows over `start`..`end`, or each patient's own last 28 local days.

    `patients` narrows the clinic's patients (a search, a filter) and must come from
    `adherence.clinic_patients`; `below_pct` keeps the rows whose adherence is under it;
    `ordering` is one of ORDERINGS, `-` first for descending (empty values last).
    """
    if ordering.removeprefix("-") not in ORDERINGS:
        raise ValueError(f"unknown ordering {ordering!r}")
    if patients is None:
        patients = adherence.clinic_patients(clinic_id)
    return ClinicRows(
        patients,
        clinic_id=clinic_id,
        start=start,
        end=end,
        ordering=ordering,
        below_pct=below_pct,
        now=now or timezone.now(),
    )
