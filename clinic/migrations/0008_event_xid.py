"""Each event keeps the id of the transaction that wrote it (PostgreSQL), so that the feed
answers it only once no transaction still running can precede it (clinic.events.after).

The column is added by hand: Django would re-create SQLite's table for a column with a
default, and the append-only triggers (0007) would go with the old table. On PostgreSQL
the events already written get the migration's own transaction id, which has ended by
the time anyone reads them.
"""

from django.db import migrations, models

import clinic.models

ADD_COLUMN = {
    "postgresql": "ALTER TABLE clinic_event ADD COLUMN xid bigint "
    "DEFAULT (pg_current_xact_id()::text::bigint)",
    "sqlite": "ALTER TABLE clinic_event ADD COLUMN xid bigint NULL",
}


def add_column(apps, schema_editor):
    schema_editor.execute(ADD_COLUMN[schema_editor.connection.vendor])


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE clinic_event DROP COLUMN xid")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0007_event")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_column, drop_column)],
            state_operations=[
                migrations.AddField(
                    model_name="event",
                    name="xid",
                    field=models.BigIntegerField(
                        db_default=clinic.models.TransactionId(), editable=False, null=True
                    ),
                )
            ],
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["clinic", "xid", "id"], name="event_feed_order"),
        ),
    ]
