"""The clinic table: one adherence row per patient of a clinic, sorted, filtered, paged.

Read by the API (`GET adherence/`, JSON and CSV) and by the clinic team's web page alike.
`clinic_adherence` is the one entry point: it answers a sequence whose slices are one SQL
aggregate over the adherence ledger (ledger/), sorted, filtered and paged in the
database in any ordering, so a page costs the same few queries however big the clinic.
The statement is the one definition of every figure: a patient's own report, the streak
a check-in's advice quotes and the alert rules' figures are computed by it too
(patient_report.py), over those patients alone.

Over each patient's default range, a row computed ahead and stored (clinic_store.py) is
read instead while it holds; the statement computes only the others. The answer is the
same either way (tests hold that too); only its cost differs.
"""

from collections.abc import Sequence
from datetime import date, datetime

from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet, Value
from django.utils import timezone

import prescriptions.adherence.clinic_sql as clinic_sql
import prescriptions.adherence.ledger as ledger
import prescriptions.adherence.report as adherence
from prescriptions.adherence.clinic_row import row_of
from prescriptions.adherence.clinic_scope import scope_of
from prescriptions.adherence.dialects import DIALECTS
from prescriptions.models import ClinicRow, ClinicRowVersion, Prescription

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

# A page reads the stored rows (clinic_store.py) when at most this many of its patients'
# rows must be computed afresh; past it, the page is cut by its key before computing rows
# whole, which is cheaper than computing them all.
STALE_LIMIT = 500

PAIN_CHANGE = "s.recent_tenths - s.baseline_tenths AS pain_change_tenths"


class ClinicRows(Sequence):
    """The rows of a clinic table in order, each as a patient's own report has it (without
    by_day), computed from the ledger by the database: one query per page however many
    patients and whatever the ordering or filter. `len()` and slices are what a paginator
    asks; `stream_select()` reads every row from a server-side cursor, in constant memory.
    `stored=False` computes every row, never reading the stored ones; `patient_id`: the
    rows are that one patient's (their report), whose ledger alone is caught up; `zones`:
    the patients' zones, given by a caller that has caught their ledger up already;
    `window`: each patient's range as a function of their today, in place of the default
    28 days up to it (the alert rules' last full week).
    """

    def __init__(
        self, patients: QuerySet, *, clinic_id, start, end, ordering, below_pct, now, stored=True,
        patient_id=None, zones=None, window=None,
    ):  # fmt: skip
        self.field = ordering.removeprefix("-")
        self.descending = ordering.startswith("-")
        self.clinic_id = clinic_id
        self.start, self.end, self.now = start, end, now
        self.below_pct = below_pct
        self.patients, self.patient_id = patients, patient_id
        self.window = window or adherence.default_range
        # Stored rows hold each patient's default range only.
        self.stored = stored and start is None and end is None and window is None
        self._count: int | None = None
        self._zones: list[str] | None = zones
        self._stale = self._fresh = 0
        self._fill: dict = {}
        self._patients_sql = ""
        self._dialect = DIALECTS[connection.vendor]

    def __len__(self) -> int:
        if self._count is None:
            if self.below_pct is None:
                self._count = self.patients.count()
            else:
                with connection.cursor() as cursor:
                    cursor.execute(*self._filtered_sql("COUNT(*)", whole=False))
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
            return [row_of(values) for values in cursor.fetchall()]

    def patient_ids(self) -> list[int]:
        """Whose rows these are (for the audit trail of an export), without computing them
        when no computed figure filters them."""
        if self.below_pct is None:
            return list(self.patients.values_list("id", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(*self._filtered_sql("id", whole=True))
            return [patient_id for (patient_id,) in cursor.fetchall()]

    def keys(self) -> dict[int, object]:
        """Each patient's value of the ordering's key alone, computed as in their row but
        without the rest of it (a check-in's advice needs the streak, nothing else). With
        `zones` given, whether a patient's ledger is behind comes with the values, in the
        same query; only then is it caught up and the values computed again."""
        statement, params = self._statement()
        self._add_keyed(statement, params)
        (key,) = ORDERINGS[self.field]
        sql = statement.sql(f"SELECT id, {key}, {clinic_sql.BEHIND} FROM keyed")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
            if any(behind for *_, behind in found):
                ids = [patient_id for patient_id, *_ in found]
                ledger.ledger_catch_up(clinic_id=self.clinic_id, patient_ids=ids, now=self.now)
                cursor.execute(sql, params)
                found = cursor.fetchall()
        return {patient_id: value for patient_id, value, _ in found}

    def days(self) -> list[tuple]:
        """The dates of the patients' ranges that the ledger has, as the statement's days
        part sums them (the one definition of a date's figures, those of a report's
        `by_day`): (patient, date, expected, completed, extra, pain before in tenths), in
        order. A date the ledger does not have expected nothing and had no check-in."""
        statement, params = self._statement()
        statement.add("r", "SELECT * FROM everyone", inline=True)
        days = clinic_sql.DAYS.format(**statement.scope("a", "r"))
        pain = clinic_sql.tenths("d.pain", "d.check_ins")
        sql = statement.sql(
            "SELECT r.id, d.day, d.expected, d.completed,"
            f" d.check_ins - d.answered, {pain}"
            f" FROM r{statement.join('d', days)} WHERE d.day IS NOT NULL ORDER BY r.id, d.day"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def stream_select(self, select: str, chunk: int = 2000):
        """`select` (SQL over the columns of a row: clinic_row.COLUMNS, pain_change_tenths)
        of every row in order, as tuples, read in chunks from a server-side cursor where
        the database has one."""
        with connection.chunked_cursor() as cursor:
            cursor.execute(*self._sql(None, select))
            while rows := cursor.fetchmany(chunk):
                yield from rows

    def _order_by(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        keys = [f"{key} {direction} NULLS LAST" for key in ORDERINGS[self.field]]
        return ", ".join([*keys, "last_name ASC", "first_name ASC", "id ASC"])

    def _filtered_sql(self, select: str, *, whole: bool) -> tuple[str, dict]:
        """`select` (a count, the ids) over the rows under `below_pct`: from the stored rows
        where they are read, else from `keyed`, every patient's row with what the filter
        needs and nothing else."""
        if self._reads_stored(whole=whole):
            sql, params = self._rows_sql(stored=True)
            return f"SELECT {select} FROM ({sql}) rows WHERE adherence_tenths < %(below)s", params
        statement, params = self._statement()
        self._add_keyed(statement, params)
        return statement.sql(f"SELECT {select} FROM keyed"), params

    def _reads_stored(self, *, whole: bool) -> bool:
        """Whether the stored rows are read: for every row at once always (a row computed
        afresh costs the same either way), for a page while few must be computed."""
        if self._zones is None:
            self._zones = self._zones_caught_up()
        return self.stored and (whole or self._stale <= STALE_LIMIT)

    def _add_keyed(self, statement: clinic_sql.Statement, params: dict) -> None:
        kind = KEY_KINDS.get(self.field)
        joins, columns = "", {}
        if kind == "days":
            joins = clinic_sql.LEDGER_PATIENT + statement.days_path(
                "k_", "everyone", self._fill, agg=clinic_sql.AGG_KEY
            )
            columns = {
                name: sql
                for name, sql in clinic_sql.days_columns("k_", self._dialect).items()
                if name in (*ORDERINGS[self.field], "adherence_tenths")
            }
        elif kind == "sums" or self.below_pct is not None:
            joins = statement.per_patient("sums", clinic_sql.SUMS, "everyone", "a")
            columns = dict(clinic_sql.SUMS_COLUMNS)
        if kind == "extras":
            columns |= clinic_sql.EXTRAS_COLUMNS
        listed = "".join(f", {sql} AS {name}" for name, sql in columns.items())
        keyed = f"SELECT r.*{listed} FROM everyone r{joins}"
        if self.below_pct is not None:
            params["below"] = self.below_pct * 10
            keyed = f"SELECT * FROM ({keyed}) k WHERE adherence_tenths < %(below)s"
        statement.add("keyed", keyed)

    def _sql(self, page: tuple[int, int] | None, select: str = "*") -> tuple[str, dict]:
        """The rows whole (or `select` over them), all of them or a page (limit, offset) in
        order."""
        limit = "" if page is None else f" LIMIT {page[0]} OFFSET {page[1]}"
        stored = self._reads_stored(whole=page is None)
        if page is not None and self.field in KEY_KINDS and not stored:
            sql, params = self._rows_sql(stored=False, cut=limit)
            limit = ""
        else:
            sql, params = self._rows_sql(stored=stored)
        where = ""
        if self.below_pct is not None:
            params["below"] = self.below_pct * 10
            where = " WHERE adherence_tenths < %(below)s"
        order = f" ORDER BY {self._order_by()}{limit}"
        return f"SELECT {select} FROM ({sql}) rows{where}{order}", params

    def _rows_sql(self, *, stored: bool, cut: str = "") -> tuple[str, dict]:
        """Every row with its pain change, unordered: the stored rows that hold and the
        others computed (`stored`), or all computed; with `cut` (a LIMIT), only the rows of
        that page of the ordering's key."""
        if stored and not self._fresh:
            # None holds (a new date in every zone, say): all computed, without asking
            # each patient's stored row whether it holds.
            stored = False
        statement, params = self._statement(stale_only=stored)
        if self.below_pct is not None:
            params["below"] = self.below_pct * 10
        if stored and not self._stale:
            report = self._stored_sql()
            return f"SELECT s.*, {PAIN_CHANGE} FROM ({report}) s", params
        if cut:
            self._add_keyed(statement, params)
            statement.add(
                "r",
                f"SELECT {clinic_sql.PATIENT_COLUMNS} FROM keyed ORDER BY {self._order_by()}{cut}",
            )
        else:
            statement.add("r", "SELECT * FROM everyone", inline=True)
        report = self._computed_sql(statement)
        if stored:
            report += " UNION ALL " + self._stored_sql()
        return f"SELECT s.*, {PAIN_CHANGE} FROM ({report}) s", params

    def _stored_sql(self) -> str:
        last_check_in = self._dialect["instant_text"].format("s.last_check_in")
        return clinic_sql.STORED.format(patients=self._patients_sql, last_check_in=last_check_in)

    def _computed_sql(self, statement: clinic_sql.Statement, extra: str = "") -> str:
        """The rows of the patients of `r` computed whole, in COLUMNS' order (then `extra`)."""
        # The ledger's row of the patient first: the days path reads it.
        joins = clinic_sql.LEDGER_PATIENT + statement.days_path("", "r", self._fill)
        columns = clinic_sql.days_columns("", self._dialect)
        columns |= {
            "baseline_tenths": clinic_sql.BASELINE_TENTHS,
            "recent_tenths": clinic_sql.tenths("agg.recent_pain", "agg.recent_n"),
            "last_check_in": self._dialect["instant_text"].format("lp.last_check_in"),
            "open_alerts": clinic_sql.OPEN_ALERTS,
            "red_flag_open": clinic_sql.RED_FLAG_OPEN,
            "prescription_status": clinic_sql.PRESCRIPTION_STATUS,
        }
        return statement.sql(
            "SELECT r.id, r.first_name, r.last_name, r.d_from, r.d_to, r.today, r.activated"
            + "".join(f", {sql} AS {name}" for name, sql in columns.items())
            + f"{extra} FROM r{joins}"
        )

    def to_store(self) -> list[tuple]:
        """Every row computed afresh (never read from the stored ones), each followed by
        what storing it needs: the patient's zone, the version of their figures it was
        computed at, and the instant it stops holding."""
        statement, params = self._statement()
        statement.add("r", "SELECT * FROM everyone", inline=True)
        least = self._dialect["least"]
        # The next session to fall due, if one comes before midnight.
        fresh_until = f"COALESCE({least.format('r.midnight', clinic_sql.NEXT_DUE)}, r.midnight)"
        extra = f", r.timezone, {clinic_sql.VERSION}, {fresh_until}"
        with connection.cursor() as cursor:
            cursor.execute(self._computed_sql(statement, extra), params)
            return cursor.fetchall()

    def _zones_caught_up(self) -> list[str]:
        """The patients' zones; first, when the scheduler is behind (normally it is not:
        the same query says so), what fell due and it has not written yet. Counts on the
        way how many of the patients' stored rows hold, and how many do not."""
        mine = {"patient_id": self.patient_id} if self.patient_id else {}
        behind = Prescription.objects.filter(
            patient__clinic_id=self.clinic_id, ledger_until__lte=self.now, **mine
        )
        fresh = Exists(fresh_rows(self.clinic_id, self.now)) if self.stored else Value(False)
        patients = self.patients.order_by().annotate(behind=Exists(behind), fresh=fresh)
        found = list(patients.values_list("timezone", "behind", "fresh").annotate(Count("id")))
        if any(late for _, late, _, _ in found):
            ids = [self.patient_id] if self.patient_id else None
            ledger.ledger_catch_up(clinic_id=self.clinic_id, patient_ids=ids, now=self.now)
            found = [(zone, late, False, n) for zone, late, _, n in found]
        self._stale = sum(n for _, _, fresh, n in found if not fresh)
        self._fresh = sum(n for _, _, fresh, n in found if fresh)
        return sorted({zone for zone, *_ in found}) or ["UTC"]

    def _statement(self, *, stale_only: bool = False) -> tuple[clinic_sql.Statement, dict]:
        """The statement begun with `everyone` (clinic_scope.py): the patients asked for
        (`stale_only`: those whose stored row does not hold), each with their dates."""
        if self._zones is None:
            self._zones = self._zones_caught_up()
        scope = scope_of(
            self.patients,
            clinic_id=self.clinic_id,
            zones=self._zones,
            now=self.now,
            range_of=self._range_of,
            dialect=self._dialect,
            stale_only=stale_only,
        )
        self._fill, self._patients_sql = scope.fill, scope.patients_sql
        return scope.statement, scope.params

    def _range_of(self, today: date) -> tuple[date, date]:
        """A patient's range, from their today."""
        if self.start is not None and self.end is not None:
            return self.start, self.end
        return self.window(today)


def fresh_rows(clinic_id: int, now: datetime) -> QuerySet:
    """The stored row of the patient of OuterRef("pk"), if it holds at `now` (as
    clinic_sql.FRESH reads it). The version is asked by EXISTS, which the database joins
    by hash, rather than compared to a subquery run for each row."""
    versions = ClinicRowVersion.objects.all()
    return ClinicRow.objects.filter(
        clinic_id=clinic_id,
        patient=OuterRef("pk"),
        timezone=OuterRef("timezone"),
        computed_at__lte=now,
        fresh_until__gt=now,
    ).filter(Exists(versions.filter(patient=OuterRef("patient"), version=OuterRef("version"))))


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
