from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self):
        # prescriptions never imports outcomes (tests/test_import_graph.py): it calls these
        # through the lists in prescriptions.seams.
        from outcomes import schedules, web
        from prescriptions import seams

        for hooks, hook in (
            (seams.prescription_created, schedules.schedule_defaults_create),
            (seams.reminder_links, web.reminder_link),
            (seams.patient_home_panels, web.home_panel),
        ):
            if hook not in hooks:
                hooks.append(hook)
