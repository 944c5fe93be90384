from django.dispatch import Signal

# Sent after commit when a patient's time zone changed, with `patient_id=`. Patients must
# not import prescriptions, so whatever depends on the zone (reminder times) listens here.
timezone_changed = Signal()
