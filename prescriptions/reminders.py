"""Reminders: due → claim → deliver.

TODO(reminders): implement per PRODUCT.md - Reminder time.
"""


def slots_reschedule(*, prescription_id: int) -> None:
    """Recomputes the next fire instant of each slot of the prescription.

    Called (inside the transaction) after a prescription is created or changed, its status
    changes, or its patient's time zone changes.
    """
