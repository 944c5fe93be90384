from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        # Prescriptions never imports outcomes: its pages, reminders and documents ask the
        # registry in prescriptions.extensions, which outcomes fills here.
        from outcomes import hooks

        hooks.register()
