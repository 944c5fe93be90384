"""Alerts: what the product tells the clinician about a patient, and what it tells the
patient after a check-in.

raising.py raises an alert once (red flags at once, the periodic rules in batches), keeps
the quiet period after an acknowledgement and emails the clinician; rules.py holds one
function per periodic rule; advice.py the words a patient reads after a check-in;
digest.py the clinician's weekly email. Other modules call only what this face names.
"""

from prescriptions.alerts.advice import after_checkin as checkin_advice_words
from prescriptions.alerts.advice import is_emergency
from prescriptions.alerts.digest import digest_clinicians, digest_send, last_complete_week
from prescriptions.alerts.raising import (
    AlertAlreadyAcknowledged,
    alert_acknowledge,
    alert_notify_clinician,
    alert_raise,
    evaluate_alerts,
    outcome_worsening_alert_raise,
    red_flag_alert_raise,
    session_pain_alert_raise,
)

__all__ = [
    "AlertAlreadyAcknowledged",
    "alert_acknowledge",
    "alert_notify_clinician",
    "alert_raise",
    "checkin_advice_words",
    "digest_clinicians",
    "digest_send",
    "evaluate_alerts",
    "is_emergency",
    "last_complete_week",
    "outcome_worsening_alert_raise",
    "red_flag_alert_raise",
    "session_pain_alert_raise",
]
