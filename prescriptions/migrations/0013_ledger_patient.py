"""The ledger's row per patient (models.LedgerPatient). Its rows are filled by 0014, once
every column the ledger's code writes exists."""

import django.db.models.deletion
from django.db import migrations, models


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
    ]
