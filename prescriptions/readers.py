"""What the prescriptions app does when an event is written (clinic.events' readers,
registered in PrescriptionsConfig.ready(), in this order):

- "zone follows": a patient's new zone moves their sessions still to come and their
  reminder times, in the transaction of the change (it commits or rolls back with it);
- "clinic rows": the stored clinic rows of the patients the events name no longer hold,
  in the transaction of the change (one statement however many events);
- "red-flag email": once committed, the prescribing clinician is emailed about a red flag
  (a new red-flag alert, or a sign added to the open one).

A zone change writes patient.timezone_changed before patient.updated: the zone reader
writes the patient's ledger days before the clinic-rows reader takes their
ClinicRowVersion row, the order every writer keeps (models/ledger.py), so that two writers
never wait for each other in a circle.
"""

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from clinic import events
from clinic.models import Event
from prescriptions import adherence
from prescriptions.models import (
    AdherenceDay,
    Alert,
    ClinicRowVersion,
    Prescription,
    ScheduleChange,
)
from prescriptions.reminders import patient_slots_reschedule
from prescriptions.tasks import notify_red_flag

Type = events.Type

# The changes a patient's row of the clinic table can show: its sessions and pain, its
# plan and status, its alerts, its zone (and whether the patient is in care).
CLINIC_ROW_TYPES = frozenset(
    {
        Type.PATIENT_UPDATED,
        Type.PATIENT_ARCHIVED,
        Type.PRESCRIPTION_CREATED,
        Type.PRESCRIPTION_CHANGED,
        Type.PRESCRIPTION_PAUSED,
        Type.PRESCRIPTION_RESUMED,
        Type.PRESCRIPTION_ENDED,
        Type.CHECK_IN_CREATED,
        Type.CHECK_IN_CORRECTED,
        Type.CHECK_IN_WITHDRAWN,
        Type.ALERT_RAISED,
        Type.ALERT_ACKNOWLEDGED,
    }
)


def clinic_rows_outdate(written: list[Event]) -> None:
    ClinicRowVersion.objects.outdate(
        event.data["patient"] for event in written if event.data.get("patient")
    )


def _zone_in_force():
    """The zone a prescription's ledger follows now: that of its latest recorded schedule
    or, for one made without the services (no schedule recorded), that of the last day the
    ledger wrote for it; null when neither says."""
    schedules = ScheduleChange.objects.filter(prescription=OuterRef("pk"))
    days = AdherenceDay.objects.filter(prescription=OuterRef("pk")).exclude(timezone="")
    return Coalesce(
        Subquery(schedules.order_by("-effective_at", "-id").values("timezone")[:1]),
        Subquery(days.order_by("-local_date").values("timezone")[:1]),
    )


def zone_follow(written: list[Event]) -> None:
    """The patient's zone changed: the sessions still to come and the reminder times of
    their prescriptions follow it; those already expected stay as they were."""
    patient_ids = {event.data["patient"] for event in written}
    prescriptions = (
        Prescription.objects.filter(patient_id__in=patient_ids)
        .exclude(status=Prescription.Status.ENDED)
        .select_related("patient")
        .annotate(zone_in_force=_zone_in_force())
        .order_by("id")
    )
    for prescription in prescriptions:
        # The schedule before the change, recorded first for a prescription that has none
        # recorded: in the zone its days were written in (none written: nothing to keep).
        zone = prescription.zone_in_force or prescription.patient.timezone
        previous = adherence.schedule_snapshot(prescription, zone)
        adherence.schedule_change(prescription=prescription, previous=previous)
    for patient_id in sorted(patient_ids):
        patient_slots_reschedule(patient_id=patient_id)


def red_flag_emails(event_ids: list[int]) -> None:
    """After commit: the clinician's email for each red-flag alert raised, or given a new
    sign, by these events (alerts.alert_notify_clinician, through a task that retries)."""
    written = Event.objects.filter(id__in=event_ids).order_by("id")
    about = [(event.data["alert"], event.data.get("check_in")) for event in written]
    red_flags = {
        alert.id: alert
        for alert in Alert.objects.filter(
            id__in=[alert_id for alert_id, _ in about], kind=Alert.Kind.RED_FLAG
        )
    }
    for alert_id, check_in_id in about:
        alert = red_flags.get(alert_id)
        if alert is not None:
            # A new alert: the check-in that raised it, its first (if a check-in did).
            first = (alert.details.get("check_ins") or [None])[0]
            notify_red_flag.delay(alert_id, check_in_id or first)


def register() -> None:
    events.read_by(
        events.Reader(
            "zone follows",
            types=frozenset({Type.PATIENT_TIMEZONE_CHANGED}),
            in_transaction=zone_follow,
        )
    )
    events.read_by(
        events.Reader("clinic rows", types=CLINIC_ROW_TYPES, in_transaction=clinic_rows_outdate)
    )
    events.read_by(
        events.Reader(
            "red-flag email",
            types=frozenset({Type.ALERT_RAISED, Type.ALERT_UPDATED}),
            after_commit=red_flag_emails,
        )
    )
