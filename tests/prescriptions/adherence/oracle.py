"""The Python oracle of a patient's adherence figures: the report as report_from worked it
out in Python from the ledger's rows, before the clinic table's statement became the one
definition (prescriptions/adherence/patient_report.py). Its streak and pain figures live
here alone now; the property tests compare the statement against this on every history
they draw. So does the current prescription's rule, as current.py chose it in Python before
its SQL (current_sql.py) became the one definition."""

from datetime import date, datetime, timedelta

from prescriptions.adherence.days import KINDS
from prescriptions.adherence.ledger import PAIN_WINDOW_DAYS
from prescriptions.adherence.report import (
    MEANINGFUL_PAIN_CHANGE,
    PatientData,
    dates_between,
    report_data,
    round1,
)
from prescriptions.models import AdherenceDay, Prescription, status_read
from prescriptions.schedule import local_date_of, local_midnight


def is_active_day(timeline, day: date) -> bool:
    """Not paused (or ended) for the whole of the day, in the patient's zone now: resumed
    during it still counts (docs/definitions.md, "Active day"), read from the
    prescription's status history, apart from the ledger that writes it."""
    if not timeline.spans(day):
        return False
    start = local_midnight(day, timeline.tz)
    stop = local_midnight(day + timedelta(days=1), timeline.tz)
    return timeline.status_at(start) == Prescription.Status.ACTIVE or any(
        status == Prescription.Status.ACTIVE for at, status in timeline.changes if start < at < stop
    )


def oracle_report(patient, start: date, end: date, now: datetime) -> dict:
    # Their ledger caught up first, as a report does.
    data = report_data([patient], start=start, end=end, now=now, behind=[patient.id])
    return report_from(data[patient.id], start, end, now)


def _pain_mean(rows) -> object:
    """The mean pain before sessions over ledger rows, as (pain sum, check-ins)."""
    return round1(sum(r.pain_sum for r in rows), sum(r.total for r in rows))


def first_week_pain(patient):
    """The mean pain before sessions over the first week of the patient's first
    prescription that ran (one with an active day in the ledger), None without one."""
    starts = AdherenceDay.objects.filter(patient=patient, active=True).values_list(
        "prescription__start_date", flat=True
    )
    first = min(starts, default=None)
    if first is None:
        return None
    week = AdherenceDay.objects.filter(
        patient=patient,
        local_date__range=(first, first + timedelta(days=PAIN_WINDOW_DAYS - 1)),
    ).values_list("pain_before_sum", "check_ins")
    pain, check_ins = (sum(values) for values in zip(*week, strict=True)) if week else (0, 0)
    return round1(pain, check_ins)


def pain_summary(data: PatientData, start: date, end: date) -> dict:
    baseline = first_week_pain(data.patient)
    recent_start = max(start, end - timedelta(days=PAIN_WINDOW_DAYS - 1))
    recent = _pain_mean(
        [r for day in dates_between(recent_start, end) for r in data.days.get(day, ())]
    )
    change = None if baseline is None or recent is None else recent - baseline
    return {
        "baseline": baseline,
        "recent": recent,
        "change": change,
        "meaningful": change is not None and abs(change) >= MEANINGFUL_PAIN_CHANGE,
    }


def due(row, kind: str) -> datetime | None:
    return row.morning_due_at if kind == "morning" else row.bedtime_due_at


def expected_kinds(row, now: datetime) -> list[str]:
    """The sessions of the row's day that have fallen due."""
    return [kind for kind in KINDS if (at := due(row, kind)) is not None and at <= now]


def waiting_of(row, now: datetime) -> int:
    """Check-ins done ahead of a session still to fall due (after an early reminder): one
    per such session, which it will complete, so neither completed nor extra."""
    return sum(
        1
        for kind in KINDS
        if (at := due(row, kind)) is not None and at > now and getattr(row, kind)
    )


def _all_of_today_done(rows) -> bool:
    """Every session of today done, those still to come included."""
    wanted = [(row, kind) for row in rows for kind in KINDS if due(row, kind) is not None]
    return bool(wanted) and all(getattr(row, kind) for row, kind in wanted)


def streak_in(data: PatientData, start: date, end: date, today: date, now) -> int:
    """`current_streak_days`, counting back from `end`: days after today and past days not
    active or expecting nothing are passed over, and so is today until it is complete."""
    streak = 0
    for day in reversed(list(dates_between(start, min(end, today)))):
        rows = data.days.get(day, ())
        if day == today:
            streak += _all_of_today_done(rows)
            continue
        expected = [(row, kind) for row in rows for kind in expected_kinds(row, now)]
        if not expected or not any(row.active for row in rows):
            continue
        if not all(getattr(row, kind) for row, kind in expected):
            break
        streak += 1
    return streak


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
            for kind in expected_kinds(row, now):
                expected += 1
                completed += getattr(row, kind) > 0
            check_ins += row.total
            waiting += waiting_of(row, now)
            night_total += row.night
        # A day the ledger has is as it says; a day still to come, with no row yet, is
        # active unless something already recorded stops it. (After a move west, a day
        # begun in the old zone can lie after today in the new one.)
        active = any(row.active for row in rows) or (
            day > today and any(is_active_day(t, day) for t in data.timelines)
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
        "current_streak_days": streak_in(data, start, end, today, now),
        "extra_sessions": extra_total,
        "night_sessions": night_total,
        "pain": pain_summary(data, start, end),
    }
    if with_days:
        report["by_day"] = by_day
    return report


def current_oracle(prescriptions, today: date):
    """The prescription running on the patient's local `today` (read active or paused, and
    started; the latest started if several), else the next one to start, else the latest
    started of those that have ended; None when the patient has no prescription."""
    running, upcoming, ended = [], [], []
    for rx in prescriptions:
        if status_read(rx.status, rx.end_date, today) == Prescription.Status.ENDED:
            ended.append(rx)
        elif rx.start_date > today:
            upcoming.append(rx)
        else:
            running.append(rx)
    if running:
        return max(running, key=lambda rx: (rx.start_date, rx.id))
    if upcoming:
        return min(upcoming, key=lambda rx: (rx.start_date, rx.id))
    return max(ended, key=lambda rx: (rx.start_date, rx.id), default=None)
