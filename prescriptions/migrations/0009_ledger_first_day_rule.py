"""Expected sessions now leave out the slots already gone by on the day a prescription was
written: the ledger is written again under that rule. The rebuild also outdates every
prescribed patient's stored clinic row, so none computed under the old rules is read (that
one, and check-ins done ahead of their session counted as extra)."""

from django.db import migrations


def rebuild(apps, schema_editor):
    Prescription = apps.get_model("prescriptions", "Prescription")
    if not Prescription.objects.exists():
        return  # a new database: nothing written under the old rule
    # The ledger's own writer, as 0006 does, which reads the models as they stand here.
    from prescriptions.adherence import ledger_rebuild
    from prescriptions.models import ledger_analyze

    ledger_rebuild()
    # Statistics of the rewritten ledger now, not when autovacuum runs (reports planned
    # over guesses meanwhile).
    ledger_analyze()


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0008_clinic_row_clinic")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
