"""The last date of each patient's ledger days (models.LedgerPatient.last_day); then every
patient's row worked out by the ledger's own code, as 0009 rebuilds the days.

The fill runs here, not in 0013, which made the table: the ledger's code writes every
column of the row, so it can run only once the last of them exists. A migration that adds
a column to the row takes the fill over from this one."""

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
        ("prescriptions", "0013_ledger_patient"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerpatient",
            name="last_day",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
