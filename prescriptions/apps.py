from django.apps import AppConfig


def _follow_timezone(sender, *, patient_id: int, previous_timezone: str, **kwargs) -> None:
    from prescriptions.services import patient_timezone_follow

    patient_timezone_follow(patient_id=patient_id, previous_timezone=previous_timezone)


class PrescriptionsConfig(AppConfig):
    name = "prescriptions"

    def ready(self):
        from patients.signals import timezone_changed

        # A patient's new zone moves their reminder times (see patients.services.patient_update).
        timezone_changed.connect(_follow_timezone, dispatch_uid="prescriptions-follow-timezone")
