"""Alert rules and their evaluation.

TODO(adherence-alerts): implement per PRODUCT.md - Alerts.
"""

from prescriptions.models import CheckIn


def checkin_followup(checkin: CheckIn) -> str:
    """Acts on a check-in just recorded, inside the same transaction.

    Raises a red-flag alert, pauses the prescription and notifies the clinician (after
    commit) when red flags were reported; returns the advice for the patient ("" for none).
    """
    return ""
