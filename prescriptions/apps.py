from django.apps import AppConfig


class PrescriptionsConfig(AppConfig):
    name = "prescriptions"

    def ready(self):
        from prescriptions import readers

        # What this app does when an event is written: the patient's new zone, the stored
        # clinic rows, the clinician's red-flag email (readers.py).
        readers.register()
