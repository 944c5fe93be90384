"""The SQL of the clinic table (clinic_table.py): one statement per page, built here.

A page is cut in two steps inside that one statement. First `keyed` computes, for every
patient the request covers, only what the ordering (and the low-adherence filter) needs,
and cuts the page from it; then the whole row is computed for that page's patients alone.
What an ordering needs, cheapest first:

- the patient's own columns (name, id);
- `sums`: one pass over the ledger, a hash per patient (adherence, counts of sessions);
- `days`: the ledger's days summed per patient, and the streak read by index from each
  patient's last missed day (active days, days with a session, streak);
- `extras`: a probe per patient (their last check-in, from the ledger's row of the patient;
  open alerts);
- everything (the pain change, whose baseline the ledger's row of the patient holds).

Each per-patient part is read by the patient's own index, so that no plan depends on the
planner's statistics (a fresh restore or a bulk load has none): on PostgreSQL as a
LATERAL subquery per patient, one probe of the ledger's (patient, date) index each, a
cost linear in the patients whatever the planner guesses their number to be. Joined as
an aggregate instead, a guess of one patient (what `clinic_id = … AND archived_at IS
NULL` reads without statistics) made it a nested loop that computed every patient's
sums again for each patient: 60 s for 1,000 patients, against 50 ms. SQLite, which has
no LATERAL, joins every patient's sums grouped by patient (`per_patient`).
"""

from dataclasses import dataclass, field

import prescriptions.adherence.current_sql as current_sql

# `patients` is the SQL of the patients asked for, as a table in FROM rather than a test
# `id IN (...)`: the database flattens it into this query, and what a part of the
# statement does not read (`activated`, a subquery) is not computed for it. Each patient's
# dates are those of their zone's row in `zones` (clinic_scope.py): joined, they are
# values the statement reads, where a CASE on the zone was worked out again at every use.
PATIENTS = """
SELECT p.id, p.first_name, p.last_name, p.activated, p.timezone, z.d_from, z.d_to, z.today,
    z.recent_from, z.future_from, z.midnight, z.last_past, z.past_days
FROM ({patients}) p LEFT JOIN zones z ON z.timezone = p.timezone
WHERE p.clinic_id = %(clinic)s{stale}
"""
# Its columns, by name: a page's patients are read back from `keyed` with them, rather
# than joined again to the clinic's patients (without statistics, a nested loop over them).
PATIENT_COLUMNS = (
    "id, first_name, last_name, activated, timezone, d_from, d_to, today, recent_from,"
    " future_from, midnight, last_past, past_days"
)

# Every range lies in first_from..last_to: it lets the database skip the other days.
LEDGER = """
FROM prescriptions_adherenceday a{join}
WHERE a.patient_id = r.id AND a.local_date BETWEEN r.d_from AND r.d_to
    AND a.local_date BETWEEN %(first_from)s AND %(last_to)s"""

# Sessions fallen due by now, and those of them done, on one ledger row.
EXPECTED = """(CASE WHEN a.morning_due_at <= %(now)s THEN 1 ELSE 0 END
    + CASE WHEN a.bedtime_due_at <= %(now)s THEN 1 ELSE 0 END)"""
COMPLETED = """(CASE WHEN a.morning_due_at <= %(now)s AND a.morning_check_ins > 0 THEN 1 ELSE 0 END
    + CASE WHEN a.bedtime_due_at <= %(now)s AND a.bedtime_check_ins > 0 THEN 1 ELSE 0 END)"""
# The day's sessions that have a check-in of their slot: completed once fallen due, and
# until then the check-in waits for its session (docs/definitions.md); extra in neither
# case. Every other check-in is extra.
ANSWERED = """(CASE WHEN a.morning_due_at IS NOT NULL AND a.morning_check_ins > 0 THEN 1 ELSE 0 END
    + CASE WHEN a.bedtime_due_at IS NOT NULL AND a.bedtime_check_ins > 0 THEN 1 ELSE 0 END)"""
# Today's sessions, those still to come included, and those of them not done yet.
WANTED = """(CASE WHEN a.morning_due_at IS NOT NULL THEN 1 ELSE 0 END
    + CASE WHEN a.bedtime_due_at IS NOT NULL THEN 1 ELSE 0 END)"""
OPEN = """(CASE WHEN a.morning_due_at IS NOT NULL AND a.morning_check_ins = 0 THEN 1 ELSE 0 END
    + CASE WHEN a.bedtime_due_at IS NOT NULL AND a.bedtime_check_ins = 0 THEN 1 ELSE 0 END)"""
RECENT = "CASE WHEN a.local_date >= r.recent_from THEN {} ELSE 0 END"
# Whether every session of today is done (1), one is not (0), or today asks none (NULL):
# worked out on today's rows alone.
TODAY_DONE = f"""CASE WHEN a.local_date <> r.today THEN NULL
    WHEN {OPEN} > 0 THEN 0 WHEN {WANTED} > 0 THEN 1 END"""

SUMS = f"""
SELECT {{pid}}SUM({EXPECTED}) AS expected, SUM({COMPLETED}) AS completed,
    SUM({RECENT.format(EXPECTED)}) AS week_expected,
    SUM({RECENT.format(COMPLETED)}) AS week_completed,
    SUM(a.check_ins) AS check_ins, SUM({ANSWERED}) AS answered,
    SUM(a.night_check_ins) AS nights
{LEDGER}{{group}}
"""

# A patient's days, one row per date: what each ledger row holds (DAY_COLUMNS: the name, the
# row's value, and how a date's rows add up). What depends on the date alone is worked out
# once a date. A patient's prescriptions may share a date: DAYS sums a date's rows, read in
# the ledger's (patient, date) order, so grouped as read, without a sort; the casts keep
# PostgreSQL's sums of sums integers (it sums a bigint as numeric), so the rounding
# divisions stay integral. A patient with one prescription has one row a date, which
# is then read as it is (PostgreSQL: LATERAL_DAYS picks one of the two by patient).
DAY_COLUMNS = [
    ("expected", EXPECTED, "SUM"),
    ("completed", COMPLETED, "SUM"),
    ("active", "CASE WHEN a.active THEN 1 ELSE 0 END", "MAX"),
    ("check_ins", "a.check_ins", "SUM"),
    ("answered", ANSWERED, "SUM"),
    ("nights", "a.night_check_ins", "SUM"),
    ("pain", "a.pain_before_sum", "SUM"),
    ("done", TODAY_DONE, "MIN"),
]
DATE_COLUMNS = """{pid}a.local_date AS day,
    CASE WHEN a.local_date < r.today THEN 1 ELSE 0 END AS past,
    CASE WHEN a.local_date <= r.today THEN 1 ELSE 0 END AS through_today,
    CASE WHEN a.local_date >= r.recent_from THEN 1 ELSE 0 END AS recent,"""


def _summed(value: str, how: str) -> str:
    return f"CAST(SUM({value}) AS INTEGER)" if how == "SUM" else f"{how}({value})"


def _days(cells: str, where: str = "", group: str = "") -> str:
    """A patient's days over the ledger's rows of their range: `cells` of each, then `where`
    besides the range, `group` last."""
    return f"\nSELECT {DATE_COLUMNS}\n    {cells}\n{LEDGER}{where}{group}\n"


_SUMMED = ", ".join(f"{_summed(value, how)} AS {name}" for name, value, how in DAY_COLUMNS)
_AS_READ = ", ".join(f"{value} AS {name}" for name, value, _ in DAY_COLUMNS)
DAYS = _days(_SUMMED, group="\nGROUP BY {by}a.local_date")
# The ledger's row of the patient (lp, LEDGER_PATIENT) says how many prescriptions they
# have; the branch that does not apply is skipped before it reads anything.
LATERAL_DAYS = (
    _days(_AS_READ, " AND lp.prescriptions = 1")
    + "UNION ALL"
    + _days(_SUMMED, " AND lp.prescriptions IS DISTINCT FROM 1", "\nGROUP BY a.local_date")
).format(pid="", join="")

# Per patient, with the last past day that missed a session (the streak runs after it) and
# the past days that asked for sessions (the streak's days): first what a page's key needs
# (the days orderings and the low-adherence filter), then the rest of the row.
KEY_SUMS = """
    SUM(d.expected) AS expected, SUM(d.completed) AS completed,
    SUM(CASE WHEN d.through_today = 1 THEN d.active ELSE 0 END) AS active_days,
    SUM(CASE WHEN d.through_today = 1 AND d.active = 1 AND d.check_ins > 0
        THEN 1 ELSE 0 END) AS days_with_session,
    MAX(CASE WHEN d.past = 1 AND d.active = 1 AND d.completed < d.expected
        THEN d.day END) AS last_missed,
    SUM(CASE WHEN d.past = 1 AND d.active = 1 AND d.expected > 0 THEN 1 ELSE 0 END)
        AS session_days,
    MAX(d.done) AS today_done"""
ROW_SUMS = """,
    SUM(d.check_ins) AS check_ins, SUM(d.answered) AS answered, SUM(d.nights) AS nights,
    SUM(d.recent * d.pain) AS recent_pain, SUM(d.recent * d.check_ins) AS recent_n,
    SUM(d.recent * d.expected) AS week_expected, SUM(d.recent * d.completed) AS week_completed"""
PER_PATIENT = "\nFROM ({days}) d{group}\n"
AGG = "SELECT {pid}" + KEY_SUMS + ROW_SUMS + PER_PATIENT
AGG_KEY = "SELECT {pid}" + KEY_SUMS + PER_PATIENT

# The streak: the past active days with sessions after the last one that missed some
# (every one of them complete, then), read by the ledger's (patient, date) index from that
# day on, patient by patient: a second pass over every patient's days read them all.
STREAK = f"""(SELECT COUNT(*) FROM (
    SELECT a.local_date FROM prescriptions_adherenceday a
    WHERE a.patient_id = r.id AND a.local_date >= r.d_from AND a.local_date <= r.d_to
        AND a.local_date < r.today
        AND a.local_date > COALESCE({{p}}agg.last_missed, %(no_day)s)
    GROUP BY a.local_date
    HAVING MAX(CASE WHEN a.active THEN 1 ELSE 0 END) = 1
        AND SUM({EXPECTED.replace("{", "{{").replace("}", "}}")}) > 0
) streak_days)"""

# Without a missed day, every one of the streak's days; when every past day of the range
# asked for sessions, the days after the last missed one (their number, by date); else read
# by STREAK. ({since_missed}: the days from the last missed one to r.last_past.)
STREAK_DAYS = f"""CASE WHEN {{p}}agg.last_missed IS NULL THEN COALESCE({{p}}agg.session_days, 0)
    WHEN {{p}}agg.session_days = r.past_days THEN {{since_missed}} ELSE {STREAK} END"""

# After a move west, the ledger can hold days after the patient's new today (begun in the
# old zone; a check-in is dated in the zone it was made in). Such a day is active when its
# row says so, or when a running prescription spans it (as FUTURE counts the days to come).
# Read only for a patient who has such days.
SPANNED = """EXISTS (SELECT 1 FROM prescriptions_prescription rx
    WHERE rx.patient_id = r.id AND rx.status = 'active' AND rx.start_date <= a.local_date
        AND (rx.end_date IS NULL OR rx.end_date >= a.local_date))"""
LEDGER_AHEAD = """(SELECT COUNT(DISTINCT a.local_date) FROM prescriptions_adherenceday a
    WHERE a.patient_id = r.id AND a.local_date > r.today AND a.local_date <= r.d_to
        AND a.local_date >= r.d_from AND {which})"""
# Days with a session among them, and the active ones FUTURE does not count.
# Read only when the range reaches past the patient's today (normally it ends there), and
# for a patient whose last ledger date (the ledger's row of the patient, lp) lies after it.
REACHES_AHEAD = "r.d_to > r.today"
HAS_DAYS_AHEAD = f"{REACHES_AHEAD} AND lp.last_day > r.today"
AHEAD = LEDGER_AHEAD.format(which=f"a.check_ins > 0 AND (a.active OR {SPANNED})")
AHEAD_ACTIVE = LEDGER_AHEAD.format(which=f"a.active AND NOT {SPANNED}")

FUTURE = (
    """
SELECT {pid}SUM({future_days}) AS days
FROM prescriptions_prescription rx{join}
WHERE rx.patient_id = r.id AND rx.status = 'active' AND {future_days} > 0
    AND """
    + REACHES_AHEAD
    + """{group}
"""
)


def tenths(numerator: str, denominator: str) -> str:
    """numerator / denominator to one decimal, halves up, as an integer of tenths."""
    return (
        f"CASE WHEN {denominator} > 0 THEN (20 * {numerator} + {denominator})"
        f" / (2 * {denominator}) END"
    )


def percent(completed: str, expected: str) -> str:
    return tenths(f"100 * {completed}", expected)


# The ledger's row of the patient (models.LedgerPatient): what reads alike for every range.
LEDGER_PATIENT = " LEFT JOIN prescriptions_ledgerpatient lp ON lp.patient_id = r.id"
BASELINE_TENTHS = tenths("lp.baseline_pain_sum", "lp.baseline_check_ins")
LAST_CHECK_IN = (
    "(SELECT lp.last_check_in FROM prescriptions_ledgerpatient lp WHERE lp.patient_id = r.id)"
)
OPEN_ALERTS = """(SELECT COUNT(*) FROM prescriptions_alert al
    WHERE al.patient_id = r.id AND al.acknowledged_at IS NULL)"""
RED_FLAG_OPEN = """EXISTS (SELECT 1 FROM prescriptions_alert al WHERE al.patient_id = r.id
    AND al.acknowledged_at IS NULL AND al.kind = 'red_flag')"""
# What the patient's current prescription reads on their today (current_sql.py).
PRESCRIPTION_STATUS = current_sql.PRESCRIPTION_STATUS.format(patient="r.id", today="r.today")

# What the `days` path reads for each patient (prefix p: the CTEs it comes from).
DAYS_COLUMNS = {
    "expected_sessions": "COALESCE({p}agg.expected, 0)",
    "completed_sessions": "COALESCE({p}agg.completed, 0)",
    "adherence_tenths": percent("{p}agg.completed", "{p}agg.expected"),
    "week_tenths": percent("{p}agg.week_completed", "{p}agg.week_expected"),
    "active_days": "COALESCE({p}agg.active_days, 0) + COALESCE({p}future.days, 0)"
    f" + CASE WHEN {HAS_DAYS_AHEAD} THEN {AHEAD_ACTIVE} ELSE 0 END",
    "days_with_session": "COALESCE({p}agg.days_with_session, 0)"
    f" + CASE WHEN {HAS_DAYS_AHEAD} THEN {AHEAD} ELSE 0 END",
    "current_streak_days": f"{STREAK_DAYS} + COALESCE({{p}}agg.today_done, 0)",
    "extra_sessions": "COALESCE({p}agg.check_ins, 0) - COALESCE({p}agg.answered, 0)",
    "night_sessions": "COALESCE({p}agg.nights, 0)",
}


def days_columns(p: str, dialect: dict) -> dict[str, str]:
    """DAYS_COLUMNS read from the CTEs of prefix `p`, in the dialect's SQL."""
    since_missed = dialect["days_between"].format("r.last_past", f"{p}agg.last_missed")
    return {name: sql.format(p=p, since_missed=since_missed) for name, sql in DAYS_COLUMNS.items()}


# The figures that are sums over the ledger's rows alone, as the `sums` part answers them
# (the same columns as the days path's `agg`).
SUMS_COLUMNS = {
    name: DAYS_COLUMNS[name].replace("{p}agg.", "sums.")
    for name in (
        "expected_sessions",
        "completed_sessions",
        "adherence_tenths",
        "week_tenths",
        "extra_sessions",
        "night_sessions",
    )
}
EXTRAS_COLUMNS = {"last_check_in": LAST_CHECK_IN, "open_alerts": OPEN_ALERTS}


@dataclass
class Statement:
    """A WITH statement put together CTE by CTE. `lateral`: the per-patient parts are read
    for each patient of `r` by index (PostgreSQL), else joined grouped by patient."""

    lateral: bool
    ctes: list[str] = field(default_factory=list)

    def add(self, name: str, sql: str, *, inline: bool = False) -> None:
        """`inline`: computed afresh where it is read (not materialized once)."""
        self.ctes.append(f"{name} AS {'NOT MATERIALIZED ' if inline else ''}({sql.strip()})")

    def scope(self, alias: str, src: str) -> dict:
        """What fills a per-patient part's {pid}, {join}, {group} and {by} (what its GROUP
        BY starts with) for the table read as `alias`: the patient `r`'s rows alone
        (lateral), or those of every patient of `src`, grouped by patient as `pid`."""
        if self.lateral:
            return {"pid": "", "join": "", "group": "", "by": ""}
        return {
            "pid": f"{alias}.patient_id AS pid, ",
            "join": f" JOIN {src} r ON r.id = {alias}.patient_id",
            "group": f"\nGROUP BY {alias}.patient_id",
            "by": f"{alias}.patient_id, ",
        }

    def join(self, name: str, sql: str) -> str:
        """The join that brings a per-patient part's columns to the rows of `r`."""
        if self.lateral:
            return f" LEFT JOIN LATERAL ({sql.strip()}) {name} ON TRUE"
        return f" LEFT JOIN ({sql.strip()}) {name} ON {name}.pid = r.id"

    def per_patient(self, name: str, sql: str, src: str, alias: str, **fill) -> str:
        return self.join(name, sql.format(**self.scope(alias, src), **fill))

    def days_path(self, p: str, src: str, fill: dict, *, agg: str = AGG) -> str:
        """The joins of the `days` path for the rows of `r` (`{p}agg`, `{p}future`)."""
        days = LATERAL_DAYS if self.lateral else DAYS.format(**self.scope("a", src))
        by_patient = (
            {"pid": "", "group": ""}
            if self.lateral
            else {"pid": "d.pid, ", "group": "\nGROUP BY d.pid"}
        )
        return self.join(f"{p}agg", agg.format(days=days, **by_patient)) + self.per_patient(
            f"{p}future", FUTURE, src, "rx", **fill
        )

    def sql(self, select: str) -> str:
        return "WITH " + ",\n".join(self.ctes) + "\n" + select


# --- Stored rows (clinic_store.py) ------------------------------------------------------

# A stored row of patient p that still holds at %(now)s (models.ClinicRow).
FRESH = """s.patient_id = p.id AND s.clinic_id = %(clinic)s AND s.timezone = p.timezone
    AND s.computed_at <= %(now)s AND s.fresh_until > %(now)s
    AND EXISTS (SELECT 1 FROM prescriptions_clinicrowversion v
        WHERE v.patient_id = p.id AND v.version = s.version)"""
STALE = f"\n    AND NOT EXISTS (SELECT 1 FROM prescriptions_clinicrow s WHERE {FRESH})"
# What a row holds besides the patient's id, names, range and activation, in the order
# the statements answer it (clinic_row.COLUMNS); a stored row has a column of each.
FIGURES = [
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
# The rows that hold, in the columns of a computed row (their names and activation read
# from the patients, their names those of a computed row); {last_check_in}: as the dialect
# answers an instant.
_STORED_FIGURES = ", ".join(
    "{last_check_in} AS last_check_in" if name == "last_check_in" else f"s.{name}"
    for name in FIGURES
)
STORED = f"""
SELECT p.id, p.first_name, p.last_name, s.d_from, s.d_to, s.today, p.activated,
    {_STORED_FIGURES}
FROM ({{patients}}) p JOIN prescriptions_clinicrow s ON {FRESH}
WHERE p.clinic_id = %(clinic)s
"""

# Whether one of the patient's prescriptions has its ledger behind (written up to an instant
# already past: the scheduler is late, so a report catches it up first).
BEHIND = """EXISTS (SELECT 1 FROM prescriptions_prescription bx
    WHERE bx.patient_id = keyed.id AND bx.ledger_until <= %(now)s)"""

# What storing a computed row needs besides it: the version it was computed at, and the
# instant it stops holding, the patient's next session to fall due or next midnight.
VERSION = "(SELECT v.version FROM prescriptions_clinicrowversion v WHERE v.patient_id = r.id)"
NEXT_DUE = """(SELECT MIN(due.at) FROM (
    SELECT a.morning_due_at AS at FROM prescriptions_adherenceday a
    WHERE a.patient_id = r.id AND a.local_date >= %(due_from)s AND a.morning_due_at > %(now)s
    UNION ALL
    SELECT a.bedtime_due_at FROM prescriptions_adherenceday a
    WHERE a.patient_id = r.id AND a.local_date >= %(due_from)s AND a.bedtime_due_at > %(now)s
) due)"""
