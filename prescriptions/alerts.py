"""Alert rules and their evaluation (PRODUCT.md, Definitions, Alerts).

Red flags act at once, inside the check-in's transaction. The other rules run over every
patient in batches from `evaluate_alerts` (a periodic task and a management command).
A partial unique constraint keeps one open alert per patient and kind, so raising is
idempotent however many evaluations race.
"""

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from clinic.models import User
from patients.models import Patient
from prescriptions import adherence, advice
from prescriptions.adherence import SESSION_PAIN_RISE, PatientData
from prescriptions.models import Alert, CheckIn, Prescription
from prescriptions.schedule import local_date_of

logger = logging.getLogger(__name__)

Kind = Alert.Kind

NO_CHECK_IN_DAYS = 3
LOW_ADHERENCE_DAYS = 7
LOW_ADHERENCE_MIN_EXPECTED = 4
LOW_ADHERENCE_BELOW_PCT = 50
PAIN_WORSENING_CHANGE = 2
SESSION_PAIN_DAYS = 7
SESSION_PAIN_MIN_DAYS = 2

# Once acknowledged, a rule stays quiet for the span of data that made it fire, so the
# clinician is not told the same thing again fifteen minutes later; a red flag always speaks.
QUIET_AFTER_RAISED = {
    Kind.NO_CHECK_IN: timedelta(days=NO_CHECK_IN_DAYS),
    Kind.LOW_ADHERENCE: timedelta(days=LOW_ADHERENCE_DAYS),
    Kind.PAIN_WORSENING: timedelta(days=7),
    Kind.SESSION_PAIN: timedelta(days=SESSION_PAIN_DAYS),
}

EVALUATION_BATCH = 250


class AlertAlreadyAcknowledged(Exception):
    pass


# --- At check-in time -----------------------------------------------------------------


def checkin_followup(checkin: CheckIn) -> str:
    """Acts on a check-in just recorded, inside the same transaction.

    Raises a red-flag alert, pauses the prescription and notifies the clinician (after
    commit) when red flags were reported; returns the advice for the patient ("" for none).
    """
    if checkin.red_flags:
        _red_flag(checkin)
        return advice.red_flag(checkin.red_flags)
    patient = checkin.patient
    now = timezone.now()
    today = adherence.local_today(ZoneInfo(patient.timezone), now)
    if _pain_rose(checkin):
        _session_pain_check(patient, checkin.prescription, today, now)
        return advice.EASE_OFF
    start, end = adherence.default_range(today)
    report = adherence.adherence_report(patient=patient, start=start, end=end, now=now)
    if report["current_streak_days"] >= advice.STREAK_MIN_DAYS:
        return advice.streak(report["current_streak_days"])
    return ""


def _pain_rose(checkin: CheckIn) -> bool:
    return (
        checkin.pain_after is not None
        and checkin.pain_after - checkin.pain_before >= SESSION_PAIN_RISE
    )


def _red_flag(checkin: CheckIn) -> None:
    prescription = checkin.prescription
    details = {
        "check_ins": [checkin.id],
        "red_flags": sorted(set(checkin.red_flags)),
        "performed_at": checkin.performed_at.isoformat(),
        "message": "A red flag was reported in a check-in; the prescription is paused.",
    }
    alert, created = _open(
        patient=checkin.patient, kind=Kind.RED_FLAG, prescription=prescription, details=details
    )
    if not created:
        # Still open from an earlier check-in: the clinician needs the new signs too.
        alert.details["check_ins"] = [*alert.details.get("check_ins", []), checkin.id]
        alert.details["red_flags"] = sorted(
            {*alert.details.get("red_flags", []), *details["red_flags"]}
        )
        alert.save(update_fields=["details"])
    if prescription.status == Prescription.Status.ACTIVE:
        # Imported here: services imports this module for checkin_record.
        from prescriptions.services import prescription_status_change

        prescription_status_change(
            prescription=prescription,
            to=Prescription.Status.PAUSED,
            effective=_pause_instant(prescription, checkin.performed_at),
            by=None,
            reason=f"Red flag reported in check-in {checkin.id}",
        )
    from prescriptions.tasks import notify_red_flag

    notify_red_flag.delay_on_commit(alert.id)


def _pause_instant(prescription: Prescription, performed_at: datetime) -> datetime:
    """When the session happened, unless that is not a valid pause instant (then now)."""
    now = timezone.now()
    last = (
        prescription.status_changes.order_by("-effective_at")
        .values_list("effective_at", flat=True)
        .first()
    )
    if performed_at > now or (last is not None and performed_at < last):
        return now
    return performed_at


def _session_pain_check(
    patient: Patient, prescription: Prescription, today: date, now: datetime
) -> None:
    since = today - timedelta(days=SESSION_PAIN_DAYS - 1)
    days = sorted(
        set(
            CheckIn.objects.filter(
                patient=patient,
                local_date__range=(since, today),
                pain_after__gte=F("pain_before") + SESSION_PAIN_RISE,
            ).values_list("local_date", flat=True)
        )
    )
    if len(days) < SESSION_PAIN_MIN_DAYS or _quiet(patient.id, Kind.SESSION_PAIN, now):
        return
    _open(
        patient=patient,
        kind=Kind.SESSION_PAIN,
        prescription=prescription,
        details=_session_pain_details(days),
    )


def _quiet(patient_id: int, kind: str, now: datetime) -> bool:
    return Alert.objects.filter(_blocking(now, kind), patient_id=patient_id, kind=kind).exists()


def _blocking(now: datetime, kind: str) -> Q:
    blocks = Q(acknowledged_at__isnull=True)
    if kind in QUIET_AFTER_RAISED:
        blocks |= Q(created_at__gte=now - QUIET_AFTER_RAISED[kind])
    return blocks


def _open(
    *, patient: Patient, kind: str, prescription: Prescription | None, details: dict
) -> tuple[Alert, bool]:
    """The open alert of this kind for the patient, created when there is none.

    The savepoint lets a concurrent insert lose cleanly on the unique constraint; the
    winner's row is then the open one.
    """
    for _ in range(3):
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    patient=patient, kind=kind, prescription=prescription, details=details
                )
            return alert, True
        except IntegrityError:
            alert = (
                Alert.objects.select_for_update()
                .filter(patient=patient, kind=kind, acknowledged_at__isnull=True)
                .first()
            )
            if alert is not None:
                return alert, False
    raise RuntimeError(f"Could not raise a {kind} alert for patient {patient.id}")


# --- Acknowledgement and notification -------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, note: str = "") -> Alert:
    now = timezone.now()
    # The filtered update is the claim: of two clinicians acknowledging at once, one wins.
    claimed = Alert.objects.filter(id=alert.id, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by, note=note
    )
    if not claimed:
        raise AlertAlreadyAcknowledged("This alert has already been acknowledged.")
    alert.refresh_from_db()
    return alert


def alert_notify_clinician(*, alert_id: int) -> bool:
    """Emails the prescribing clinician that a red flag needs them.

    Email is not a secure channel: the message names neither the patient nor the signs,
    only the record and alert numbers to open in the app.
    """
    alert = (
        Alert.objects.select_related("prescription__clinician", "patient")
        .filter(id=alert_id)
        .first()
    )
    if alert is None:
        return False
    clinician = alert.prescription.clinician if alert.prescription else None
    address = clinician and (clinician.email or clinician.username)
    if not address or "@" not in address:
        logger.warning("Alert %s: the prescribing clinician has no email address", alert_id)
        return False
    performed = alert.details.get("performed_at", alert.created_at.isoformat())[:10]
    send_mail(
        subject=f"Knee Rocks: a patient reported a warning sign (alert {alert.id})",
        message=(
            f"A patient in your care (patient record {alert.patient_id}) reported a warning "
            f"sign in a check-in on {performed}.\n\n"
            "Their knee-rocks prescription has been paused, so they get no more reminders "
            "until you resume it. They were advised to stop the exercise and seek care.\n\n"
            f"Please sign in to the clinic app, review alert {alert.id} and contact the "
            "patient.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[address],
    )
    return True


# --- Periodic evaluation --------------------------------------------------------------


def evaluate_alerts(
    *, now: datetime | None = None, batch_size: int = EVALUATION_BATCH
) -> list[Alert]:
    """Evaluates every prescribed patient and returns the alerts it raised.

    Patients go in batches of `batch_size`, each with a constant number of queries.
    """
    now = now or timezone.now()
    raised = []
    prescribed = Exists(Prescription.objects.filter(patient=OuterRef("pk")))
    patients = Patient.objects.filter(prescribed).only("id", "timezone", "clinic_id").order_by("id")
    last_id = 0
    while batch := list(patients.filter(id__gt=last_id)[:batch_size]):
        raised += _evaluate_batch(batch, now)
        last_id = batch[-1].id
    return raised


def _evaluate_batch(patients: list[Patient], now: datetime) -> list[Alert]:
    todays = [local_date_of(now, ZoneInfo(p.timezone)) for p in patients]
    start, _ = adherence.default_range(min(todays))
    data = adherence.load(patients, start=start, end=max(todays))
    ids = [p.id for p in patients]
    seen = Alert.objects.filter(patient_id__in=ids).filter(
        Q(acknowledged_at__isnull=True) | Q(created_at__gte=now - max(QUIET_AFTER_RAISED.values()))
    )
    blocked = set()
    open_ids = set()
    for alert_id, patient_id, kind, created_at, acknowledged_at in seen.values_list(
        "id", "patient_id", "kind", "created_at", "acknowledged_at"
    ):
        if acknowledged_at is None:
            open_ids.add(alert_id)
            blocked.add((patient_id, kind))
        elif kind in QUIET_AFTER_RAISED and created_at >= now - QUIET_AFTER_RAISED[kind]:
            blocked.add((patient_id, kind))
    candidates = [
        alert
        for patient in patients
        for alert in rules(data[patient.id], now)
        if (patient.id, alert.kind) not in blocked
    ]
    if not candidates:
        return []
    # A concurrent evaluation may have raised some of these since we looked: the
    # constraint turns those inserts into no-ops.
    Alert.objects.bulk_create(candidates, ignore_conflicts=True)
    wanted = {(a.patient_id, a.kind) for a in candidates}
    new = Alert.objects.filter(patient_id__in=ids, acknowledged_at__isnull=True).exclude(
        id__in=open_ids
    )
    return [a for a in new.order_by("patient_id", "kind") if (a.patient_id, a.kind) in wanted]


def rules(data: PatientData, now: datetime) -> list[Alert]:
    """The alerts (unsaved) that this patient's data calls for now, red flags aside."""
    today = local_date_of(now, data.tz)
    yesterday = today - timedelta(days=1)
    patient = data.patient
    found = []

    active_now = [
        t for t in data.timelines if t.status_at(now) == adherence.ACTIVE and t.spans(today)
    ]
    quiet_days = [yesterday - timedelta(days=n) for n in range(NO_CHECK_IN_DAYS)][::-1]
    for timeline in active_now:
        if all(timeline.is_active_day(d) for d in quiet_days) and not any(
            data.days.get(d) for d in quiet_days
        ):
            found.append(
                Alert(
                    patient=patient,
                    prescription_id=timeline.id,
                    kind=Kind.NO_CHECK_IN,
                    details={
                        "from": quiet_days[0].isoformat(),
                        "to": quiet_days[-1].isoformat(),
                        "days_without_check_in": NO_CHECK_IN_DAYS,
                        "message": f"No check-in for the last {NO_CHECK_IN_DAYS} days.",
                    },
                )
            )
            break

    week_start = today - timedelta(days=LOW_ADHERENCE_DAYS)
    week = adherence.compute(data, week_start, yesterday, now, with_days=False)
    pct = week["adherence_pct"]
    if week["expected_sessions"] >= LOW_ADHERENCE_MIN_EXPECTED and pct < LOW_ADHERENCE_BELOW_PCT:
        found.append(
            Alert(
                patient=patient,
                prescription_id=_latest(data),
                kind=Kind.LOW_ADHERENCE,
                details={
                    "from": week_start.isoformat(),
                    "to": yesterday.isoformat(),
                    "expected_sessions": week["expected_sessions"],
                    "completed_sessions": week["completed_sessions"],
                    "adherence_pct": float(pct),
                    "message": (
                        f"{week['completed_sessions']} of {week['expected_sessions']} sessions "
                        f"done in the last {LOW_ADHERENCE_DAYS} days ({pct} %)."
                    ),
                },
            )
        )

    start, end = adherence.default_range(today)
    pain = adherence.pain_summary(data, start, end)
    if pain["change"] is not None and pain["change"] >= PAIN_WORSENING_CHANGE:
        found.append(
            Alert(
                patient=patient,
                prescription_id=_latest(data),
                kind=Kind.PAIN_WORSENING,
                details={
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "baseline": float(pain["baseline"]),
                    "recent": float(pain["recent"]),
                    "change": float(pain["change"]),
                    "message": (
                        f"Pain before sessions rose from {pain['baseline']} to "
                        f"{pain['recent']} (+{pain['change']})."
                    ),
                },
            )
        )

    pain_days = data.days_with_pain_rise(today - timedelta(days=SESSION_PAIN_DAYS - 1), today)
    if len(pain_days) >= SESSION_PAIN_MIN_DAYS:
        found.append(
            Alert(
                patient=patient,
                prescription_id=_latest(data),
                kind=Kind.SESSION_PAIN,
                details=_session_pain_details(pain_days),
            )
        )
    return found


def _latest(data: PatientData) -> int | None:
    latest = max(data.timelines, key=lambda t: (t.start_date, t.id), default=None)
    return latest and latest.id


def _session_pain_details(days: list[date]) -> dict:
    return {
        "days": [d.isoformat() for d in days],
        "min_rise": SESSION_PAIN_RISE,
        "message": (
            f"Pain rose by {SESSION_PAIN_RISE} or more during sessions on {len(days)} of the "
            f"last {SESSION_PAIN_DAYS} days."
        ),
    }
