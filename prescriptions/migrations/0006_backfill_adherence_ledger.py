"""Existing prescriptions: their schedule as it stands is taken as the one they began with
(no earlier history was kept), and their ledger is written from it."""

from django.db import migrations


def backfill(apps, schema_editor):
    Prescription = apps.get_model("prescriptions", "Prescription")
    ScheduleChange = apps.get_model("prescriptions", "ScheduleChange")
    if not Prescription.objects.exists():
        return  # a new database: nothing to backfill
    from prescriptions.models import EPOCH

    changes = []
    for prescription in Prescription.objects.select_related("patient").iterator():
        slots = prescription.slots.order_by("time", "kind").values_list("kind", "time")
        changes.append(
            ScheduleChange(
                prescription=prescription,
                effective_at=EPOCH,
                timezone=prescription.patient.timezone,
                slots=[[kind, at.strftime("%H:%M")] for kind, at in slots],
            )
        )
    ScheduleChange.objects.bulk_create(changes, batch_size=2000)
    # The ledger's own writer, which reads the models as this migration leaves them.
    from prescriptions.adherence import ledger_rebuild
    from prescriptions.models import ledger_analyze

    ledger_rebuild()
    # Statistics of the rewritten ledger now, not when autovacuum runs (reports planned
    # over guesses meanwhile).
    ledger_analyze()


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0005_adherence_ledger")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
