from celery import shared_task

from prescriptions import alerts, reminders

# --- Reminders ---------------------------------------------------------------------------


@shared_task(ignore_result=True)
def reminders_tick() -> int:
    """The scheduler's minute: due slots become reminders, queued for delivery in batches."""
    return reminders.reminders_tick()


@shared_task(ignore_result=True)
def deliver_reminders(reminder_ids: list[int]) -> None:
    """Sends a batch of reminders. One that failed and may succeed later is retried on its
    own, so the rest of its batch is never sent twice."""
    retry = reminders.reminders_deliver(reminder_ids=reminder_ids)
    for reminder_id, attempts in retry.items():
        deliver_reminders.apply_async(([reminder_id],), countdown=reminders.retry_delay(attempts))


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
def notify_red_flag(alert_id: int) -> None:
    """Emails the clinician about a red flag; a mail server that is down is retried."""
    alerts.alert_notify_clinician(alert_id=alert_id)
