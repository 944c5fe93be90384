from django.apps import AppConfig


class PrescriptionsConfig(AppConfig):
    name = "prescriptions"

    def ready(self) -> None:
        from patients.signals import timezone_changed
        from prescriptions.reminders import on_timezone_changed

        # patients may not import prescriptions; reminder times follow the zone from here.
        timezone_changed.connect(on_timezone_changed, dispatch_uid="reminders_follow_zone")
