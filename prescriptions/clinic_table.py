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
from django.db.models import Exists, QuerySet
from django.utils import timezone

from prescriptions import adherence, clinic_sql, ledger
from prescriptions.models import Prescription
from prescriptions.schedule import local_today

# What each ordering sorts on, in the SQL's columns; ties go by name.
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

# Which part of the SQL (clinic_sql.py) an ordering's key needs to cut a page; the others
# (pain_change) need every row whole.
KEY_KINDS = {
    "last_name": "patient",
    "patient": "patient",
    "adherence_pct": "sums",
    "adherence_pct_7d": "sums",
    "expected_sessions": "sums",
    "completed_sessions": "sums",
    "extra_sessions": "sums",
    "night_sessions": "sums",
    "active_days": "days",
    "days_with_session": "days",
    "current_streak_days": "days",
    "last_check_in": "extras",
    "open_alerts": "extras",
}

# Columns of the SQL (and the pain change after them), in order.
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
        self._zones: list[str] | None = None
        self._fill: dict = {}

    def __len__(self) -> int:
        if self._count is None:
            if self.below_pct is None:
                self._count = self.patients.count()
            else:
                with connection.cursor() as cursor:
                    cursor.execute(*self._keyed_sql("SELECT COUNT(*) FROM keyed"))
                    self._count = cursor.fetchone()[0]
        return self._count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        if index.stop is None and index.start:
            return self[:][index.start :]
        start, stop = int(index.start or 0), index.stop
        page = None if stop is None else (max(int(stop) - start, 0), start)
        with connection.cursor() as cursor:
            cursor.execute(*self._sql(page))
            return [self._row(values) for values in cursor.fetchall()]

    def patient_ids(self) -> list[int]:
        """Whose rows these are (for the audit trail of an export), without computing them
        when no computed figure filters them."""
        if self.below_pct is None:
            return list(self.patients.values_list("id", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(*self._keyed_sql("SELECT id FROM keyed"))
            return [patient_id for (patient_id,) in cursor.fetchall()]

    def stream(self, chunk: int = 500):
        """Every row, read in chunks from a server-side cursor where the database has one."""
        with connection.chunked_cursor() as cursor:
            cursor.execute(*self._sql(None))
            while rows := cursor.fetchmany(chunk):
                yield from (self._row(values) for values in rows)

    def _order_by(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        keys = [f"{key} {direction} NULLS LAST" for key in ORDERINGS[self.field]]
        return ", ".join([*keys, "last_name ASC", "first_name ASC", "id ASC"])

    def _keyed_sql(self, select: str) -> tuple[str, dict]:
        """`select` over `keyed`: every patient's row with what the ordering and the filter
        need, and nothing else."""
        statement, params = self._statement()
        self._add_keyed(statement, params)
        return statement.sql(select), params

    def _add_keyed(self, statement: clinic_sql.Statement, params: dict) -> None:
        kind = KEY_KINDS.get(self.field)
        joins, columns = "", {}
        if kind == "days":
            joins = statement.days_path("k_", "everyone", self._fill, agg=clinic_sql.AGG_KEY)
            columns = {
                name: clinic_sql.DAYS_COLUMNS[name].format(p="k_")
                for name in (*ORDERINGS[self.field], "adherence_tenths")
            }
        elif kind == "sums" or self.below_pct is not None:
            statement.add("sums", clinic_sql.SUMS.format(src="everyone"))
            joins = " LEFT JOIN sums ON sums.pid = r.id"
            columns = dict(clinic_sql.SUMS_COLUMNS)
        if kind == "extras":
            columns |= clinic_sql.EXTRAS_COLUMNS
        listed = "".join(f", {sql} AS {name}" for name, sql in columns.items())
        keyed = f"SELECT r.id, r.first_name, r.last_name{listed} FROM everyone r{joins}"
        if self.below_pct is not None:
            params["below"] = self.below_pct * 10
            keyed = f"SELECT * FROM ({keyed}) k WHERE adherence_tenths < %(below)s"
        statement.add("keyed", keyed)

    def _sql(self, page: tuple[int, int] | None) -> tuple[str, dict]:
        """The rows whole, all of them or a page (limit, offset) in order."""
        statement, params = self._statement()
        limit = ""
        if page is not None:
            limit = f" LIMIT {page[0]} OFFSET {page[1]}"
        if page is not None and self.field in KEY_KINDS:
            self._add_keyed(statement, params)
            statement.add(
                "r",
                f"SELECT e.* FROM (SELECT id FROM keyed ORDER BY {self._order_by()}{limit}) k"
                " JOIN everyone e ON e.id = k.id",
            )
            limit = ""
        else:
            statement.add("r", "SELECT * FROM everyone", inline=True)
        joins = statement.days_path("", "r", self._fill)
        statement.add("first", clinic_sql.FIRST.format(src="r", **self._fill))
        joins += " LEFT JOIN first ON first.pid = r.id"
        columns = {k: v.format(p="") for k, v in clinic_sql.DAYS_COLUMNS.items()}
        columns |= {
            "baseline_tenths": clinic_sql.BASELINE_TENTHS.format(**self._fill),
            "recent_tenths": clinic_sql.tenths("agg.recent_pain", "agg.recent_n"),
            "last_check_in": clinic_sql.LAST_CHECK_IN,
            "open_alerts": clinic_sql.OPEN_ALERTS,
            "red_flag_open": clinic_sql.RED_FLAG_OPEN,
            "prescription_status": clinic_sql.PRESCRIPTION_STATUS,
        }
        report = statement.sql(
            "SELECT r.id, r.first_name, r.last_name, r.d_from, r.d_to, r.today, r.activated"
            + "".join(f", {sql} AS {name}" for name, sql in columns.items())
            + f" FROM r{joins}"
        )
        where = ""
        if self.below_pct is not None:
            params["below"] = self.below_pct * 10
            where = " WHERE adherence_tenths < %(below)s"
        sql = (
            "SELECT * FROM (SELECT s.*, s.recent_tenths - s.baseline_tenths AS pain_change_tenths"
            f" FROM ({report}) s) rows{where} ORDER BY {self._order_by()}{limit}"
        )
        return sql, params

    def _zones_caught_up(self) -> list[str]:
        """The patients' zones; first, when the scheduler is behind (normally it is not:
        the same query says so), what fell due and it has not written yet."""
        behind = Prescription.objects.filter(
            patient__clinic_id=self.clinic_id, ledger_until__lte=self.now
        )
        patients = self.patients.order_by().annotate(behind=Exists(behind))
        found = set(patients.values_list("timezone", "behind").distinct())
        if any(late for _, late in found):
            ledger.ledger_catch_up(clinic_id=self.clinic_id, now=self.now)
        return sorted({zone for zone, _ in found}) or ["UTC"]

    def _statement(self) -> tuple[clinic_sql.Statement, dict]:
        """The statement with `everyone`: the patients asked for, each with their dates."""
        if self._zones is None:
            self._zones = self._zones_caught_up()
        zones = self._zones
        dialect = clinic_sql.DIALECTS[connection.vendor]
        # no_day: before every date (the streak of a patient who never missed a session).
        params = {"clinic": self.clinic_id, "now": self.now, "no_day": date.min}

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

        patients_sql, patients_params = (
            self.patients.order_by()
            .values("id", "first_name", "last_name", "timezone", "clinic_id", "activated")
            .query.sql_with_params()
        )
        for n, value in enumerate(patients_params):
            params[f"p{n}"] = value
        patients_sql = patients_sql.replace("%s", "{}").format(
            *(f"%(p{n})s" for n in range(len(patients_params)))
        )
        ranges = [range_of(local_today(ZoneInfo(zone), self.now)) for zone in zones]
        params["first_from"] = min(start for start, _ in ranges)
        params["last_to"] = max(end for _, end in ranges)
        future_days = dialect["days_between"].format(
            dialect["least"].format("r.d_to", "COALESCE(rx.end_date, r.d_to)"),
            dialect["greatest"].format("r.future_from", "rx.start_date"),
        )
        self._fill = {
            "future_days": f"({future_days} + 1)",
            "true": dialect["true"],
            "baseline_end": dialect["plus_days"].format(
                "first.first_start", adherence.PAIN_WINDOW_DAYS - 1
            ),
        }
        statement = clinic_sql.Statement()
        statement.add(
            "everyone",
            clinic_sql.PATIENTS.format(
                d_from=by_zone("d_from", lambda today: range_of(today)[0]),
                d_to=by_zone("d_to", lambda today: range_of(today)[1]),
                today=by_zone("today", lambda today: today),
                recent_from=by_zone("recent", recent_from),
                future_from=by_zone(
                    "future", lambda today: max(today + timedelta(days=1), range_of(today)[0])
                ),
                patients=patients_sql,
            ),
            inline=True,
        )
        return statement, params

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
