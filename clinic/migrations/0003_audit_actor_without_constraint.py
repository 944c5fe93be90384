import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from clinic import triggers


class Migration(migrations.Migration):
    """The actor's foreign key without its database constraint (see AuditEntry.actor).
    SQLite rebuilds the table to change it, which drops the append-only triggers: they are
    lifted first and installed again after, on every database alike."""

    dependencies = [
        ("clinic", "0002_audit_entry"),
    ]

    operations = [
        migrations.RunPython(triggers.remove_for_migration, triggers.install_for_migration),
        migrations.AlterField(
            model_name="auditentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(triggers.install_for_migration, triggers.remove_for_migration),
    ]
