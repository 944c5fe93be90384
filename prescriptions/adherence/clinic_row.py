"""One row of the clinic table: its columns, as the statements of clinic_sql.py answer
them, and how a database row reads back as the report has it."""

import functools
from decimal import Decimal

import prescriptions.adherence.clinic_sql as clinic_sql
import prescriptions.adherence.report as adherence
from prescriptions.schedule import db_date, db_instant

# Columns of the SQL (and the pain change after them), in order.
COLUMNS = [
    "patient",
    "first_name",
    "last_name",
    "from",
    "to",
    "today",
    "activated",
    *clinic_sql.FIGURES,
]


@functools.lru_cache(maxsize=8192)
def tenths(value) -> Decimal | None:
    """Tenths as the Decimal they stand for (few distinct values: each made once)."""
    return None if value is None else Decimal(value).scaleb(-1)


def row_of(values) -> dict:
    """A row of the SQL (COLUMNS, then the pain change) as the report has it."""
    (
        patient, first_name, last_name, d_from, d_to, _today, activated,
        expected, completed, adherence_tenths, week_tenths, active_days, days_with_session,
        streak, extra, nights, baseline_tenths, recent_tenths, last_check_in,
        open_alerts, red_flag_open, prescription_status, *_,
    ) = values  # fmt: skip
    baseline, recent = tenths(baseline_tenths), tenths(recent_tenths)
    change = None if baseline is None or recent is None else recent - baseline
    return {
        "patient": patient,
        "first_name": first_name,
        "last_name": last_name,
        "from": db_date(d_from),
        "to": db_date(d_to),
        "activated": bool(activated),
        "expected_sessions": expected,
        "completed_sessions": completed,
        "adherence_pct": tenths(adherence_tenths),
        "adherence_pct_7d": tenths(week_tenths),
        "active_days": active_days,
        "days_with_session": days_with_session,
        "current_streak_days": streak,
        "extra_sessions": extra,
        "night_sessions": nights,
        "pain": {
            "baseline": baseline,
            "recent": recent,
            "change": change,
            "meaningful": change is not None and abs(change) >= adherence.MEANINGFUL_PAIN_CHANGE,
        },
        "last_check_in": db_instant(last_check_in),
        "open_alerts": open_alerts,
        "red_flag_open": bool(red_flag_open),
        "prescription_status": prescription_status,
    }
