from datetime import date, datetime

from celery import shared_task
from django.utils import timezone

from prescriptions import adherence, alerts, reminders

# --- Reminders ---------------------------------------------------------------------------


@shared_task(ignore_result=True)
def reminders_tick() -> int:
    """The scheduler's minute: slots due by the next minute become reminders, queued for
    delivery in batches at their instant."""
    return reminders.reminders_tick(deliver=deliver_reminders.delay, deliver_at=_deliver_at)


def _deliver_at(reminder_ids: list[int], eta: datetime) -> None:
    # Prepared while the worker waits for the instant, sent at it.
    prepare_reminders.delay(reminder_ids)
    deliver_reminders.apply_async((reminder_ids,), eta=eta)


@shared_task(ignore_result=True)
def prepare_reminders(reminder_ids: list[int]) -> None:
    """Builds the messages of a batch due in the minute to come (see prepare.py)."""
    reminders.reminders_prepare(reminder_ids=reminder_ids)


@shared_task(ignore_result=True)
def deliver_reminders(reminder_ids: list[int]) -> None:
    """Sends a batch of reminders. One that failed and may succeed later is retried on its
    own, so the rest of its batch is never sent twice."""
    retry = reminders.reminders_deliver(reminder_ids=reminder_ids)
    for reminder_id, attempts in retry.items():
        deliver_reminders.apply_async(([reminder_id],), countdown=reminders.retry_delay(attempts))


# --- Clinic table ------------------------------------------------------------------------


@shared_task(ignore_result=True)
def refresh_clinic_rows() -> int:
    """Computes the stored clinic rows that no longer hold (see adherence/clinic_store.py)."""
    return adherence.clinic_rows_refresh()


# --- Alerts ------------------------------------------------------------------------------


@shared_task(ignore_result=True)
def evaluate_alerts() -> int:
    """Runs every alert rule over every prescribed patient; answers how many were raised."""
    return len(alerts.evaluate_alerts())


@shared_task(
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
)
def notify_red_flag(alert_id: int, checkin_id: int | None = None) -> None:
    """Emails the clinician about a red flag; a mail server that is down is retried."""
    alerts.alert_notify_clinician(alert_id=alert_id, checkin_id=checkin_id)


# --- Weekly digest -----------------------------------------------------------------------


@shared_task(ignore_result=True)
def send_weekly_digests() -> None:
    """Fans the week's digests out, one task per clinician (each claimed once)."""
    now = timezone.now()
    for clinician in alerts.digest_clinicians():
        week_start = alerts.last_complete_week(clinician.clinic.zone, now)
        send_clinician_digest.delay(clinician.id, week_start.isoformat())


@shared_task(
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def send_clinician_digest(clinician_id: int, week_start: str) -> None:
    alerts.digest_send(clinician_id=clinician_id, week_start=date.fromisoformat(week_start))
