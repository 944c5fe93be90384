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
    # What fills the per-patient parts' {future_days}, {true} and {baseline_end}.
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
    todays = [local_today(ZoneInfo(zone), now) for zone in zones]
    # A session still to fall due is dated no earlier than the day before the earliest
    # of the patients' todays (a row dated in a zone a day behind); two, to spare.
    params["due_from"] = min(todays) - timedelta(days=2)

    def by_zone(name: str, value_of) -> str:
        """A CASE on the patient's zone: what depends on each one's today (and zone)."""
        whens = []
        for n, zone in enumerate(zones):
            tz = ZoneInfo(zone)
            params[f"{name}_z{n}"] = zone
            params[f"{name}_v{n}"] = value_of(local_today(tz, now), tz)
            whens.append(f"WHEN %({name}_z{n})s THEN %({name}_v{n})s")
        return f"CASE p.timezone {' '.join(whens)} END"

    def recent_from(today: date) -> date:
        start, end = range_of(today)
        return max(start, end - timedelta(days=adherence.RECENT_WEEK_DAYS - 1))

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
    ranges = [range_of(today) for today in todays]
    params["first_from"] = min(start for start, _ in ranges)
    params["last_to"] = max(end for _, end in ranges)
    future_days = dialect["days_between"].format(
        dialect["least"].format("r.d_to", "COALESCE(rx.end_date, r.d_to)"),
        dialect["greatest"].format("r.future_from", "rx.start_date"),
    )
    fill = {
        "future_days": f"({future_days} + 1)",
        "true": dialect["true"],
        "baseline_end": dialect["plus_days"].format(
            "first.first_start", adherence.PAIN_WINDOW_DAYS - 1
        ),
    }
    statement = clinic_sql.Statement(lateral=dialect["lateral"])
    statement.add(
        "everyone",
        clinic_sql.PATIENTS.format(
            d_from=by_zone("d_from", lambda today, _: range_of(today)[0]),
            d_to=by_zone("d_to", lambda today, _: range_of(today)[1]),
            today=by_zone("today", lambda today, _: today),
            recent_from=by_zone("recent", lambda today, _: recent_from(today)),
            future_from=by_zone(
                "future", lambda today, _: max(today + timedelta(days=1), range_of(today)[0])
            ),
            midnight=by_zone(
                "midnight", lambda today, tz: local_midnight(today + timedelta(days=1), tz)
            ),
            patients=patients_sql,
            stale=clinic_sql.STALE if stale_only else "",
        ),
        inline=True,
    )
    return Scope(statement, params, fill, patients_sql)
