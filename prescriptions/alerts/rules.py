"""The periodic alert rules, one function per rule (docs/definitions.md, "Alerts").

Each rule reads one patient's data loaded by `adherence.report_data`, with their figures
computed by adherence's one engine (`adherence.patients_figures`), with no query of its own,
and answers the unsaved alert it calls for, or None. Raising, the quiet period after
an acknowledgement and red flags are the business of raising.py.
"""

from datetime import date, datetime, timedelta

from prescriptions.adherence import PatientData
from prescriptions.models import SESSION_PAIN_RISE, Alert, Prescription
from prescriptions.schedule import local_date_of

Kind = Alert.Kind

NO_CHECK_IN_DAYS = 3
LOW_ADHERENCE_DAYS = 7
LOW_ADHERENCE_MIN_EXPECTED = 4
LOW_ADHERENCE_BELOW_PCT = 50
PAIN_WORSENING_CHANGE = 2
SESSION_PAIN_DAYS = 7
SESSION_PAIN_MIN_DAYS = 2


def no_check_in(data: PatientData, today: date, now: datetime) -> Alert | None:
    """Active on each of the last full days and not one check-in in them."""
    yesterday = today - timedelta(days=1)
    quiet_days = [yesterday - timedelta(days=n) for n in range(NO_CHECK_IN_DAYS)][::-1]
    if any(data.checked_in(d) for d in quiet_days):
        return None
    for timeline in data.timelines:
        if (
            timeline.status_at(now) == Prescription.Status.ACTIVE
            and timeline.spans(today)
            and all(data.active_on(timeline.id, d) for d in quiet_days)
        ):
            return Alert(
                patient=data.patient,
                prescription_id=timeline.id,
                kind=Kind.NO_CHECK_IN,
                details={
                    "from": quiet_days[0].isoformat(),
                    "to": quiet_days[-1].isoformat(),
                    "days_without_check_in": NO_CHECK_IN_DAYS,
                    "message": f"No check-in for the last {NO_CHECK_IN_DAYS} days.",
                },
            )
    return None


def last_full_week(today: date) -> tuple[date, date]:
    """The range low_adherence weighs: the last LOW_ADHERENCE_DAYS days before today."""
    return today - timedelta(days=LOW_ADHERENCE_DAYS), today - timedelta(days=1)


def low_adherence(data: PatientData, today: date, now: datetime) -> Alert | None:
    """Under half of the sessions expected over the last full week done, when enough were
    expected for the share to mean something."""
    week = data.last_full_week
    expected, completed = int(week["expected_sessions"]), int(week["completed_sessions"])
    if expected < LOW_ADHERENCE_MIN_EXPECTED:
        return None
    pct = week["adherence_pct"]
    if pct >= LOW_ADHERENCE_BELOW_PCT:
        return None
    return _about_latest(
        data,
        Kind.LOW_ADHERENCE,
        {
            "from": week["from"].isoformat(),
            "to": week["to"].isoformat(),
            "expected_sessions": expected,
            "completed_sessions": completed,
            "adherence_pct": float(pct),
            "message": (
                f"{completed} of {expected} sessions done in the last {LOW_ADHERENCE_DAYS} days"
                f" ({pct} %)."
            ),
        },
    )


def pain_worsening(data: PatientData, today: date, now: datetime) -> Alert | None:
    """Pain before sessions this last week well above the first week's."""
    report = data.report
    pain = report["pain"]
    if pain["change"] is None or pain["change"] < PAIN_WORSENING_CHANGE:
        return None
    return _about_latest(
        data,
        Kind.PAIN_WORSENING,
        {
            "from": report["from"].isoformat(),
            "to": report["to"].isoformat(),
            "baseline": float(pain["baseline"]),
            "recent": float(pain["recent"]),
            "change": float(pain["change"]),
            "message": (
                f"Pain before sessions rose from {pain['baseline']} to "
                f"{pain['recent']} (+{pain['change']})."
            ),
        },
    )


def session_pain(data: PatientData, today: date, now: datetime) -> Alert | None:
    days = data.days_with_pain_rise(*session_pain_window(today))
    return session_pain_alert(data.patient, latest_prescription_id(data), days)


def session_pain_window(today: date) -> tuple[date, date]:
    return today - timedelta(days=SESSION_PAIN_DAYS - 1), today


def session_pain_alert(patient, prescription_id: int | None, days: list[date]) -> Alert | None:
    """Pain rose during sessions on several days of the window: `days` are those days."""
    if len(days) < SESSION_PAIN_MIN_DAYS:
        return None
    return Alert(
        patient=patient,
        prescription_id=prescription_id,
        kind=Kind.SESSION_PAIN,
        details={
            "days": [d.isoformat() for d in days],
            "min_rise": SESSION_PAIN_RISE,
            "message": (
                f"Pain rose by {SESSION_PAIN_RISE} or more during sessions on "
                f"{len(days)} of the last {SESSION_PAIN_DAYS} days."
            ),
        },
    )


RULES = (no_check_in, low_adherence, pain_worsening, session_pain)


def alerts_called_for(data: PatientData, now: datetime) -> list[Alert]:
    """The alerts (unsaved) that this patient's data calls for now, red flags aside."""
    today = local_date_of(now, data.tz)
    return [alert for rule in RULES if (alert := rule(data, today, now)) is not None]


def _about_latest(data: PatientData, kind: str, details: dict) -> Alert:
    """An alert about the patient as a whole, filed under their latest prescription."""
    return Alert(
        patient=data.patient,
        prescription_id=latest_prescription_id(data),
        kind=kind,
        details=details,
    )


def latest_prescription_id(data: PatientData) -> int | None:
    latest = max(data.timelines, key=lambda t: (t.start_date, t.id), default=None)
    return latest and latest.id
