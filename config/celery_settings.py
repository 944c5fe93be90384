"""The Celery settings: the broker (the embedded filesystem broker by default, so that
web, worker and beat need no server), how tasks are acknowledged, and beat's schedule.
config/settings.py takes them as they are answered here."""

from pathlib import Path

from celery.schedules import crontab

from config.env import env_str


def celery_settings(var_dir: Path) -> dict:
    """Every CELERY_* setting, with the broker's folders made under `var_dir` when the
    embedded broker is in use."""
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
    if CELERY_BROKER_URL == "filesystem://":
        # The embedded broker: messages are files in one folder that every process on this
        # machine shares, so web, worker and beat need no server.
        _broker_dir = var_dir / "broker"
        for _sub in ("queue", "processed", "control"):
            (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "data_folder_in": str(_broker_dir / "queue"),
            "data_folder_out": str(_broker_dir / "queue"),
            "processed_folder": str(_broker_dir / "processed"),
            "control_folder": str(_broker_dir / "control"),
            "store_processed": False,
        }
    else:
        # Longer than any task may run, shorter than a reminder is worth: a task lost with its
        # worker is redelivered within the hour (reminders later than 60 minutes are skipped).
        CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    CELERY_TASK_IGNORE_RESULT = True
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    CELERY_TASK_SERIALIZER = "json"
    CELERY_ACCEPT_CONTENT = ["json"]
    CELERY_TIMEZONE = "UTC"
    CELERY_BEAT_SCHEDULE_FILENAME = str(var_dir / "celerybeat-schedule")

    CELERY_BEAT_SCHEDULE = {
        # Finds reminder slots whose fire instant has come, claims them and queues delivery.
        # On the minute (not every 60 s from beat's start): slot times are whole minutes, so a
        # reminder due at 07:00 goes out at 07:00, not up to a minute later.
        # A tick that waited more than a minute in the queue is useless: the next one covers it.
        "reminders-tick": {
            "task": "prescriptions.tasks.reminders_tick",
            "schedule": crontab(minute="*"),
            "options": {"expires": 55},
        },
        # The clinic table's stored rows that a check-in, a session fallen due or a new day
        # outdated, computed again so that the clinic's page reads them instead. On the minute,
        # as sessions fall due: the rows a 07:00 slot outdates are stored again at 07:00.
        "clinic-rows-refresh": {
            "task": "prescriptions.tasks.refresh_clinic_rows",
            "schedule": crontab(minute="*"),
            "options": {"expires": 55},
        },
        # The contract asks for alerts at least hourly; every 15 minutes keeps them fresh.
        "alerts-evaluate": {
            "task": "prescriptions.tasks.evaluate_alerts",
            "schedule": 15 * 60.0,
            "options": {"expires": 14 * 60},
        },
        # Clinic webhook deliveries whose next try has come and that no worker holds: retries,
        # and whatever a worker lost between the commit and its first post (a crash, a broker
        # that dropped the message). Frequent, as the first retry is due within seconds.
        "webhooks-sweep": {
            "task": "webhooks.tasks.sweep",
            "schedule": 10.0,
            "options": {"expires": 9},
        },
        # Each clinician's weekly summary, Monday morning UTC; claimed once per clinician-week.
        "clinician-weekly-digest": {
            "task": "prescriptions.tasks.send_weekly_digests",
            "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
            "options": {"expires": 6 * 3600},
        },
    }
    return {name: value for name, value in locals().items() if name.startswith("CELERY_")}
