from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # The events' door calls this app, never the other way round: the registry in
        # clinic.events and the clinic notices of prescriptions.extensions are filled here.
        from clinic import events
        from prescriptions import extensions
        from webhooks import fanout, notices

        events.read_by(events.Reader("webhooks", in_transaction=fanout.deliveries_create))
        extensions.add_clinic_notice(
            extensions.Section("webhooks/disabled_notice.html", notices.disabled_endpoints)
        )
