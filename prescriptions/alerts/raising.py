"""Alerts: raising them once, the quiet period after one, acknowledging and telling the
clinician (docs/definitions.md, "Alerts"). The rules themselves are in rules.py.

Red flags are raised at once, inside the check-in's transaction (the check-in service
pauses the prescription; the alert's event, once committed, emails the clinician). The
other rules run over every patient in batches from `evaluate_alerts` (a periodic task
and a management command). A partial unique constraint keeps one open alert per patient
and kind, so raising is idempotent however many evaluations race.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from clinic import events
from clinic.models import User
from patients.models import Patient
from prescriptions import adherence
from prescriptions.alerts.advice import is_emergency
from prescriptions.alerts.rules import (
    LOW_ADHERENCE_DAYS,
    NO_CHECK_IN_DAYS,
    SESSION_PAIN_DAYS,
    alerts_called_for,
    last_full_week,
    session_pain_alert,
    session_pain_window,
)
from prescriptions.models import (
    PAIN_ROSE,
    Alert,
    CheckIn,
    ClinicRowVersion,
    Prescription,
    RedFlag,
)
from prescriptions.schedule import local_date_of, local_today

logger = logging.getLogger(__name__)

Kind = Alert.Kind

# Once acknowledged, a rule stays quiet for the span of data that made it fire, so the
# clinician is not told the same thing again fifteen minutes later; a red flag always speaks.
QUIET_AFTER_RAISED = {
    Kind.NO_CHECK_IN: timedelta(days=NO_CHECK_IN_DAYS),
    Kind.LOW_ADHERENCE: timedelta(days=LOW_ADHERENCE_DAYS),
    Kind.PAIN_WORSENING: timedelta(days=7),
    Kind.SESSION_PAIN: timedelta(days=SESSION_PAIN_DAYS),
}

EVALUATION_BATCH = 250
RED_FLAG_LABELS = dict(RedFlag.choices)


class AlertAlreadyAcknowledged(Exception):
    pass


def silences(kind: str, created_at: datetime, acknowledged_at: datetime | None, now) -> bool:
    """Whether an existing alert keeps a new one of its kind from being raised now: while
    it is open, and for its kind's quiet period after it was raised."""
    if acknowledged_at is None:
        return True
    return kind in QUIET_AFTER_RAISED and created_at >= now - QUIET_AFTER_RAISED[kind]


def _open_or_recent(now: datetime) -> Q:
    """Every alert that may silence a new one (a superset: `silences` decides)."""
    return Q(acknowledged_at__isnull=True) | Q(
        created_at__gte=now - max(QUIET_AFTER_RAISED.values())
    )


def alert_raise(alert: Alert) -> tuple[Alert, bool]:
    """Saves the unsaved `alert` unless its patient has an open one of its kind; answers
    the open alert and whether it is new.

    The savepoint lets a concurrent insert lose cleanly on the unique constraint; the
    winner's row is then the open one.
    """
    for _ in range(3):
        try:
            with transaction.atomic():
                created = Alert.objects.create(
                    patient_id=alert.patient_id,
                    kind=alert.kind,
                    prescription_id=alert.prescription_id,
                    details=alert.details,
                )
                _alert_event(created, alert.patient.clinic_id, events.Type.ALERT_RAISED)
            return created, True
        except IntegrityError:
            existing = (
                Alert.objects.select_for_update()
                .filter(patient_id=alert.patient_id, kind=alert.kind, acknowledged_at__isnull=True)
                .first()
            )
            if existing is not None:
                return existing, False
    raise RuntimeError(f"Could not raise a {alert.kind} alert for patient {alert.patient_id}")


def _alert_event(alert: Alert, clinic_id: int, type: str, **more) -> None:
    events.record(
        type,
        clinic_id=clinic_id,
        patient=alert.patient_id,
        prescription=alert.prescription_id,
        alert=alert.id,
        **more,
    )


# --- At check-in time -----------------------------------------------------------------


def red_flag_alert_raise(checkin: CheckIn) -> tuple[Alert, list[str]]:
    """The open red-flag alert of the patient, with this check-in's signs added to it, and
    the signs it did not hold yet (all of them for a new alert). New signs on the open
    alert are an alert.updated event naming the check-in: the clinician must hear them;
    the same signs again tell them nothing new while the alert waits for them."""
    flags = sorted(set(checkin.red_flags))
    alert, created = alert_raise(
        Alert(
            patient=checkin.patient,
            kind=Kind.RED_FLAG,
            prescription_id=checkin.prescription_id,
            details={
                "check_ins": [checkin.id],
                "red_flags": flags,
                "performed_at": checkin.performed_at.isoformat(),
                **red_flag_words(flags),
            },
        )
    )
    if created:
        return alert, flags
    # Still open from an earlier check-in: the clinician needs the new signs too.
    known = set(alert.details.get("red_flags", []))
    alert.details["check_ins"] = [*alert.details.get("check_ins", []), checkin.id]
    alert.details["red_flags"] = sorted(known | set(flags))
    alert.details.update(red_flag_words(alert.details["red_flags"]))
    alert.save(update_fields=["details"])
    new_flags = [flag for flag in flags if flag not in known]
    if new_flags:
        _alert_event(
            alert, checkin.patient.clinic_id, events.Type.ALERT_UPDATED, check_in=checkin.id
        )
    return alert, new_flags


def red_flag_words(flags: list[str]) -> dict:
    """The signs of a red-flag alert in words, for its `details`: `signs` and `message`.

    The message says nothing of the prescription's status: it is stored once, and a pause
    is undone by a resume; the page says "paused" only while it is.
    """
    signs = [RED_FLAG_LABELS.get(flag, flag) for flag in flags]
    noun = "A warning sign" if len(signs) == 1 else "Warning signs"
    return {"signs": signs, "message": f"{noun} reported in a check-in: {'; '.join(signs)}."}


def session_pain_alert_raise(checkin: CheckIn, now: datetime) -> Alert | None:
    """After a session whose pain rose: the session-pain alert, when the patient's recent
    sessions call for one and none silences it."""
    patient = checkin.patient
    days = sorted(
        set(
            CheckIn.objects.filter(
                PAIN_ROSE,
                patient=patient,
                local_date__range=session_pain_window(local_today(patient.zone, now)),
            ).values_list("local_date", flat=True)
        )
    )
    alert = session_pain_alert(patient, checkin.prescription_id, days)
    if alert is None or _silenced(patient.id, Kind.SESSION_PAIN, now):
        return None
    return alert_raise(alert)[0]


def _silenced(patient_id: int, kind: str, now: datetime) -> bool:
    seen = Alert.objects.filter(_open_or_recent(now), patient_id=patient_id, kind=kind)
    return any(
        silences(kind, created_at, acknowledged_at, now)
        for created_at, acknowledged_at in seen.values_list("created_at", "acknowledged_at")
    )


def outcome_worsening_alert_raise(
    *, patient_id: int, prescription_id: int | None, details: dict
) -> tuple[Alert, bool]:
    """A questionnaire score worse than the patient's baseline by at least the instrument's
    meaningful change (the outcomes app judges that, and calls this when it records the
    response). One open per patient whatever the instrument: while it is open, a later
    worse score adds nothing new for the clinician to act on."""
    return alert_raise(
        Alert(
            patient_id=patient_id,
            kind=Kind.OUTCOME_WORSENING,
            prescription_id=prescription_id,
            details=details,
        )
    )


# --- Acknowledgement and notification -------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, note: str = "") -> Alert:
    now = timezone.now()
    # Read again with its patient, whose clinic the event belongs to.
    alert = Alert.objects.select_related("patient").get(id=alert.id)
    # The event before the alert's row: its reader takes the patient's ClinicRowVersion row,
    # which every writer takes before an alert's (a red-flag check-in adding to this one).
    # A claim lost below rolls it back with the rest.
    _alert_event(alert, alert.patient.clinic_id, events.Type.ALERT_ACKNOWLEDGED)
    # The filtered update is the claim: of two clinicians acknowledging at once, one wins.
    claimed = Alert.objects.filter(id=alert.id, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by, note=note
    )
    if not claimed:
        raise AlertAlreadyAcknowledged("This alert has already been acknowledged.")
    alert.acknowledged_at, alert.acknowledged_by, alert.note = now, by, note
    return alert


def alert_notify_clinician(*, alert_id: int, checkin_id: int | None = None) -> bool:
    """Emails the prescribing clinician that a red flag needs them: how urgent it is, the
    patient's local date of the check-in, and where to read the rest once signed in.

    Email is not a secure channel: the message names neither the patient nor the signs,
    only the record and alert numbers and the link to open in the app.
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
    checkin = CheckIn.objects.filter(id=checkin_id, patient_id=alert.patient_id).first()
    flags = checkin.red_flags if checkin else alert.details.get("red_flags", [])
    performed = checkin.performed_at if checkin else alert.created_at
    local_date = local_date_of(performed, alert.patient.zone)
    follow_up = (
        checkin is not None and alert.details.get("check_ins", [checkin.id])[0] != checkin.id
    )
    if is_emergency(flags):
        subject = "EMERGENCY warning sign reported"
        urgency = (
            "Urgency: EMERGENCY. The sign reported needs emergency care. The patient was "
            "told to stop the exercise and to call their emergency number or go to an "
            "emergency department straight away."
        )
    else:
        subject = "warning sign reported"
        urgency = (
            "Urgency: prompt review. The patient was told to stop the exercise and to "
            "contact the clinic or their doctor today, sooner if it gets worse."
        )
    page = f"{settings.SITE_URL}/staff/patients/{alert.patient_id}/"
    paragraphs = [
        f"A patient in your care (patient record {alert.patient_id}) reported "
        f"{'a further' if follow_up else 'a'} warning sign (alert {alert.id}) in a check-in "
        f"on {local_date.isoformat()} (the patient's local date).",
        urgency,
        *(
            [f"Alert {alert.id} was still open; this check-in added a sign not reported before."]
            if follow_up
            else []
        ),
        "Their knee-rocks prescription is paused, so they get no reminders until you resume it.",
        f"Read the details and contact the patient (sign in first): {page}",
    ]
    send_mail(
        subject=f"Knee Rocks: {subject} (alert {alert.id})",
        message="\n\n".join(paragraphs) + "\n",
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
    # An archived patient is out of the clinic's care: nobody would act on the alert.
    in_care = Patient.objects.filter(prescribed, archived_at__isnull=True)
    # Whether the patient's ledger is behind `now` (the scheduler late): caught up first.
    behind = Exists(Prescription.objects.filter(patient=OuterRef("pk"), ledger_until__lte=now))
    patients = (
        in_care.only("id", "timezone", "clinic_id")
        .annotate(behind=behind)
        .order_by("clinic_id", "id")
    )
    after = Q()
    while batch := list(patients.filter(after)[:batch_size]):
        # One clinic's patients at a time: adherence computes a clinic's figures at once.
        batch = [p for p in batch if p.clinic_id == batch[0].clinic_id]
        raised += _evaluate_batch(batch, now)
        last = batch[-1]
        after = Q(clinic_id__gt=last.clinic_id) | Q(clinic_id=last.clinic_id, id__gt=last.id)
    return raised


def _evaluate_batch(patients: list[Patient], now: datetime) -> list[Alert]:
    """One clinic's patients: their ledger's days and their figures (a query each for the
    default range and the last full week), then the alerts they call for."""
    todays = [local_today(p.zone, now) for p in patients]
    # The ledger's days the rules read themselves: the no-check-in days before today and
    # the session-pain window up to it (the others weigh the engine's figures).
    start = min(todays) - timedelta(days=max(NO_CHECK_IN_DAYS, SESSION_PAIN_DAYS - 1))
    behind = [p.id for p in patients if p.behind]
    data = adherence.report_data(patients, start=start, end=max(todays), now=now, behind=behind)
    reports = adherence.patients_figures(patients, now=now)
    weeks = adherence.patients_figures(patients, now=now, window=last_full_week)
    for patient in patients:
        data[patient.id].report = reports[patient.id]
        data[patient.id].last_full_week = weeks[patient.id]
    ids = [p.id for p in patients]
    seen = Alert.objects.filter(_open_or_recent(now), patient_id__in=ids)
    silenced = set()
    for patient_id, kind, created_at, acknowledged_at in seen.values_list(
        "patient_id", "kind", "created_at", "acknowledged_at"
    ):
        if silences(kind, created_at, acknowledged_at, now):
            silenced.add((patient_id, kind))
    candidates = [
        alert
        for patient in patients
        for alert in alerts_called_for(data[patient.id], now)
        if (patient.id, alert.kind) not in silenced
    ]
    if not candidates:
        return []
    # A concurrent evaluation may have raised some of these since we looked: the
    # constraint turns those inserts into no-ops, and the rows this INSERT wrote (RETURNING)
    # are the alerts this evaluation raised, each with its event in the same transaction.
    clinic_of = {p.id: p.clinic_id for p in patients}
    with transaction.atomic():
        # The patients' ClinicRowVersion rows first, as every writer takes them before an
        # alert's: the events below outdate them (again), but only after the insert, which
        # would then hold a new session-pain alert while waiting for a check-in that holds
        # the row and is inserting the same alert: a deadlock.
        ClinicRowVersion.objects.outdate(a.patient_id for a in candidates)
        raised = _insert_new(candidates)
        events.record_each(
            events.Type.ALERT_RAISED,
            (
                (
                    clinic_of[patient_id],
                    {"patient": patient_id, "prescription": prescription_id, "alert": alert_id},
                )
                for alert_id, patient_id, prescription_id in raised
            ),
        )
    new = Alert.objects.filter(id__in=[alert_id for alert_id, _, _ in raised])
    return list(new.order_by("patient_id", "kind"))


def _insert_new(candidates: list[Alert]) -> list[tuple[int, int, int | None]]:
    """bulk_create(ignore_conflicts=True) that answers the rows it inserted, as
    (id, patient_id, prescription_id): INSERT … ON CONFLICT DO NOTHING RETURNING, which
    PostgreSQL and SQLite (3.35+) both speak."""
    meta = Alert._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    returning = [meta.pk, meta.get_field("patient"), meta.get_field("prescription")]
    for alert in candidates:
        alert._prepare_related_fields_for_save(operation_name="bulk_create")
    return Alert.objects._insert(
        candidates, fields=fields, returning_fields=returning, on_conflict=OnConflict.IGNORE
    )
