"""What the patients app tells the apps built on it, which it may not import."""

from django.dispatch import Signal

# Sent after commit when a patient's time zone changed, with `patient_id` and
# `previous_timezone`: prescriptions move the sessions to come and the reminder times.
timezone_changed = Signal()
