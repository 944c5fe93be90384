from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinics and their people"

    def ready(self):
        # The OpenAPI extensions register themselves when their module is imported.
        from clinic.api import schema  # noqa: F401
