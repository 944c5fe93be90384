"""Whom a clinic-table statement covers and when: the patients asked for, as SQL the
statement reads as a table (`everyone`), each with the dates that depend on their zone's
today (their range, today, the last week, the days still to come, the next midnight), and
the parameters and fragments the rest of the statement (clinic_sql.py) is filled with."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

import prescriptions.adherence.clinic_sql as clinic_sql
import prescriptions.adherence.report as adherence
from prescriptions.schedule import local_midnight, local_today


@dataclass
class Scope:
    statement: clinic_sql.Statement
    params: dict
    # What fills the per-patient parts' {future_days}.
    fill: dict
    # The patients asked for, as SQL with named parameters (in `params`).
    patients_sql: str


def scope_of(
    patients: QuerySet,
    *,
    clinic_id: int,
    zones: list[str],
    now: datetime,
    range_of: Callable[[date], tuple[date, date]],
    dialect: dict,
    stale_only: bool = False,
) -> Scope:
    """The statement begun with `everyone`: the patients asked for (`stale_only`: those
    whose stored row does not hold), each with their dates; `range_of` gives a patient's
    range from their today."""
    # no_day: before every date (the streak of a patient who never missed a session).
    params = {"clinic": clinic_id, "now": now, "no_day": date.min}
    # What depends on each zone's today, worked out once a zone.
    dates = [_dates(ZoneInfo(zone), now, range_of) for zone in zones]
    # A session still to fall due is dated no earlier than the day before the earliest
    # of the patients' todays (a row dated in a zone a day behind); two, to spare.
    params["due_from"] = min(d["today"] for d in dates) - timedelta(days=2)
    params["first_from"] = min(d["d_from"] for d in dates)
    params["last_to"] = max(d["d_to"] for d in dates)

    patients_sql, patients_params = (
        patients.order_by()
        .values("id", "first_name", "last_name", "timezone", "clinic_id", "activated")
        .query.sql_with_params()
    )
    for n, value in enumerate(patients_params):
        params[f"p{n}"] = value
    patients_sql = patients_sql.replace("%s", "{}").format(
        *(f"%(p{n})s" for n in range(len(patients_params)))
    )
    future_days = dialect["days_between"].format(
        dialect["least"].format("r.d_to", "COALESCE(rx.end_date, r.d_to)"),
        dialect["greatest"].format("r.future_from", "rx.start_date"),
    )
    fill = {"future_days": f"({future_days} + 1)"}
    statement = clinic_sql.Statement(lateral=dialect["lateral"])
    rows = []
    for n, (zone, values) in enumerate(zip(zones, dates, strict=True)):
        params[f"zone_{n}"] = zone
        params |= {f"{name}_{n}": values[name] for name in DATES}
        rows.append(", ".join(f"%({name}_{n})s" for name in ("zone", *DATES)))
    statement.add(f"zones(timezone, {', '.join(DATES)})", f"VALUES ({'), ('.join(rows)})")
    statement.add(
        "everyone",
        clinic_sql.PATIENTS.format(
            patients=patients_sql,
            stale=clinic_sql.STALE if stale_only else "",
        ),
        inline=True,
    )
    return Scope(statement, params, fill, patients_sql)


# The dates of a zone the statement reads, a row of `zones` each (clinic_sql.PATIENTS).
DATES = (
    "d_from",
    "d_to",
    "today",
    "recent_from",
    "future_from",
    "midnight",
    "last_past",
    "past_days",
)


def _dates(tz: ZoneInfo, now: datetime, range_of) -> dict:
    """A zone's today, the range from it, the start of its last week, the first of its days
    still to come, the instant its day ends, and the range's last past date and number of
    past dates."""
    today = local_today(tz, now)
    start, end = range_of(today)
    last_past = min(today - timedelta(days=1), end)
    return {
        "d_from": start,
        "d_to": end,
        "today": today,
        "recent_from": max(start, end - timedelta(days=adherence.RECENT_WEEK_DAYS - 1)),
        "future_from": max(today + timedelta(days=1), start),
        "midnight": local_midnight(today + timedelta(days=1), tz),
        "last_past": last_past,
        "past_days": max(0, (last_past - start).days + 1),
    }
