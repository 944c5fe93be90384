"""The ledger's row per patient (models.LedgerPatient), worked out for every patient who has
a prescription, by the ledger's own code, as 0009 rebuilds the days."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    Prescription = apps.get_model("prescriptions", "Prescription")
    ids = sorted(set(Prescription.objects.values_list("patient_id", flat=True)))
    if not ids:
        return  # a new database
    from prescriptions.adherence import ledger_patients_refresh
    from prescriptions.models import ledger_analyze

    for start in range(0, len(ids), 1000):
        ledger_patients_refresh(ids[start : start + 1000], check_ins=True)
    ledger_analyze()


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_patient_archive_reason"),
        ("prescriptions", "0012_alert_outcome_worsening"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerPatient",
            fields=[
                (
                    "patient",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="patients.patient",
                    ),
                ),
                ("first_start", models.DateField(null=True)),
                ("baseline_check_ins", models.PositiveIntegerField(default=0)),
                ("baseline_pain_sum", models.PositiveIntegerField(default=0)),
                ("last_check_in", models.DateTimeField(null=True)),
                ("prescriptions", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
