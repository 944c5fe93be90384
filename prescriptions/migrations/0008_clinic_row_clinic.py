import django.db.models.deletion
from django.db import migrations, models


def empty(apps, schema_editor):
    # Stored rows are computed from the ledger: the next refresh writes them again.
    apps.get_model("prescriptions", "ClinicRow").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0003_audit_actor_without_constraint"),
        ("prescriptions", "0007_clinic_rows"),
    ]

    operations = [
        migrations.RunPython(empty, migrations.RunPython.noop),
        migrations.AddField(
            model_name="clinicrow",
            name="clinic",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="clinic.clinic",
            ),
            preserve_default=False,
        ),
    ]
