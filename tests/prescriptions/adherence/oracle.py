"""The Python oracle of a patient's adherence figures: the report as report_from worked it
out in Python from the ledger's rows (report_data), before the clinic table's statement
became the one definition (prescriptions/adherence/patient_report.py). The property tests
compare that statement against this on every history they draw."""

from datetime import date, datetime

from prescriptions.adherence.report import (
    PatientData,
    dates_between,
    pain_summary,
    report_data,
    round1,
    streak_in,
)
from prescriptions.schedule import local_date_of


def oracle_report(patient, start: date, end: date, now: datetime) -> dict:
    data = report_data([patient], start=start, end=end, now=now)
    return report_from(data[patient.id], start, end, now)


def report_from(
    data: PatientData, start: date, end: date, now: datetime, *, with_days: bool = True
) -> dict:
    """The adherence report of one patient from data loaded by `report_data`."""
    today = local_date_of(now, data.tz)
    by_day = []
    expected_total = completed_total = extra_total = night_total = 0
    active_days = days_with_session = 0
    for day in dates_between(start, end):
        rows = data.days.get(day, ())
        expected = completed = check_ins = waiting = 0
        for row in rows:
            for kind in row.expected_kinds(now):
                expected += 1
                completed += getattr(row, kind) > 0
            check_ins += row.total
            waiting += row.waiting(now)
            night_total += row.night
        # A day the ledger has is as it says; a day still to come, with no row yet, is
        # active unless something already recorded stops it. (After a move west, a day
        # begun in the old zone can lie after today in the new one.)
        active = any(row.active for row in rows) or (
            day > today and any(t.is_active_day(day) for t in data.timelines)
        )
        expected_total += expected
        completed_total += completed
        extra = check_ins - completed - waiting
        extra_total += extra
        active_days += active
        days_with_session += active and check_ins > 0
        if with_days:
            by_day.append(
                {
                    "date": day,
                    "expected": expected,
                    "completed": completed,
                    "extra": extra,
                    "pain_before_mean": round1(sum(r.pain_sum for r in rows), check_ins),
                }
            )
    report = {
        "patient": data.patient.id,
        "from": start,
        "to": end,
        "expected_sessions": expected_total,
        "completed_sessions": completed_total,
        "adherence_pct": round1(completed_total * 100, expected_total),
        "active_days": active_days,
        "days_with_session": days_with_session,
        "current_streak_days": streak_in(data.days, start, end, today, now),
        "extra_sessions": extra_total,
        "night_sessions": night_total,
        "pain": pain_summary(data, start, end),
    }
    if with_days:
        report["by_day"] = by_day
    return report
