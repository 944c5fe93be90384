from django.core.management.base import BaseCommand

from prescriptions.alerts import evaluate_alerts


class Command(BaseCommand):
    help = "Evaluates the alert rules for every patient now and prints the alerts raised."

    def handle(self, *args, **options):
        raised = evaluate_alerts()
        for alert in raised:
            message = alert.details.get("message", "")
            self.stdout.write(f"{alert.kind} patient={alert.patient_id} alert={alert.id} {message}")
        self.stdout.write(self.style.SUCCESS(f"{len(raised)} alert(s) raised."))
