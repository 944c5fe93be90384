"""The last date of each patient's ledger days, kept on the ledger's row of the patient
(models.LedgerPatient.last_day), filled from the days themselves."""

from django.db import migrations, models

FILL = """UPDATE prescriptions_ledgerpatient SET last_day = (
    SELECT MAX(a.local_date) FROM prescriptions_adherenceday a
    WHERE a.patient_id = prescriptions_ledgerpatient.patient_id)"""


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
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
