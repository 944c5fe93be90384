"""The adherence ledger: one row per prescription and local date (written by
prescriptions/adherence/ledger/ alone)."""

from django.db import connection, models

from prescriptions.models.prescription import Prescription


class AdherenceDay(models.Model):
    """The ledger: one prescription's local date, what it expected and what it got.

    For each slot kind, the instant its session fell due (null: none expected that day),
    with the slot time and zone in force then; whether the day was active; and the
    check-ins dated on it. Written by adherence/ledger/ alone, rebuildable from its sources
    (`manage.py rebuild_ledger`).
    """

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="adherence_days"
    )
    # Denormalised so that clinic reports group by patient without a join.
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="adherence_days"
    )
    local_date = models.DateField()
    timezone = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=False)
    morning_due_at = models.DateTimeField(null=True, blank=True)
    morning_time = models.TimeField(null=True, blank=True)
    bedtime_due_at = models.DateTimeField(null=True, blank=True)
    bedtime_time = models.TimeField(null=True, blank=True)
    # Check-ins of this prescription dated on this day.
    check_ins = models.PositiveIntegerField(default=0)
    morning_check_ins = models.PositiveIntegerField(default=0)
    bedtime_check_ins = models.PositiveIntegerField(default=0)
    night_check_ins = models.PositiveIntegerField(default=0)
    pain_before_sum = models.PositiveIntegerField(default=0)
    # Check-ins whose pain rose by SESSION_PAIN_RISE or more during the session.
    pain_rises = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["local_date", "prescription_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "local_date"], name="one_adherence_day_per_date"
            )
        ]
        indexes = [models.Index(fields=["patient", "local_date"])]


class LedgerPatient(models.Model):
    """The ledger's row per patient: what their clinic-table row reads alike for every range,
    kept as their days and check-ins are written (adherence/ledger/patients.py), so that a
    report of every patient reads one row each rather than searching their history.

    The start of their first prescription that ran (had an active day), the check-ins of
    its first week (PAIN_WINDOW_DAYS dates from that start) and the pain they reported
    before their sessions, summed (the pain baseline), when they last checked in, how
    many prescriptions they have, and the last date of their days.
    Written by adherence/ledger/ alone, in the transaction of the write that moved it.
    """

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    first_start = models.DateField(null=True)
    baseline_check_ins = models.PositiveIntegerField(default=0)
    baseline_pain_sum = models.PositiveIntegerField(default=0)
    last_check_in = models.DateTimeField(null=True)
    # How many prescriptions they have: with one, no two of their ledger rows share a date.
    prescriptions = models.PositiveIntegerField(default=0)
    # The last date the ledger holds of theirs: a report reads days after the patient's
    # today (left by a move west) only for a patient who has some.
    last_day = models.DateField(null=True)


class ClinicRow(models.Model):
    """A patient's row of the clinic table over their default range (the 28 local dates
    ending today), computed by clinic_table.py and stored by clinic_store.py, so that the
    clinic's table reads one row per patient instead of computing it.

    A stored row is read only while it holds: the patient's ClinicRowVersion is still
    `version`, their zone is still `timezone`, and the clock is between `computed_at` and
    `fresh_until` (the next session to fall due, or the patient's next local midnight).
    Any other row is computed afresh where it is read. Names and whether the account is
    activated are always read from the patient.
    """

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # The patient's clinic: a clinic's table reads its own rows, not every clinic's.
    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveBigIntegerField()
    timezone = models.CharField(max_length=64)
    computed_at = models.DateTimeField()
    fresh_until = models.DateTimeField()
    d_from = models.DateField()
    d_to = models.DateField()
    today = models.DateField()
    expected_sessions = models.IntegerField()
    completed_sessions = models.IntegerField()
    # Percentages and pain means in tenths, rounded as the report rounds them.
    adherence_tenths = models.IntegerField(null=True)
    week_tenths = models.IntegerField(null=True)
    active_days = models.IntegerField()
    days_with_session = models.IntegerField()
    current_streak_days = models.IntegerField()
    extra_sessions = models.IntegerField()
    night_sessions = models.IntegerField()
    baseline_tenths = models.IntegerField(null=True)
    recent_tenths = models.IntegerField(null=True)
    last_check_in = models.DateTimeField(null=True)
    open_alerts = models.IntegerField()
    red_flag_open = models.BooleanField()
    # Null for a patient with no prescription, as the computed row has it.
    prescription_status = models.CharField(max_length=16, null=True)  # noqa: DJ001


class ClinicRowVersionManager(models.Manager):
    def outdate(self, patient_ids) -> None:
        """Stored clinic rows of these patients no longer hold.

        Called inside the write's transaction, by the reader of the write's event
        (prescriptions/readers.py), or by the ledger where time passes or it is rebuilt: a
        row computed from what the database showed before the write is then a version
        behind, whenever it is stored. Writers take a prescription, then its ledger days,
        then the patient's LedgerPatient row, then this row, then an alert, never the other
        way round, so that two of them never wait for each other in a circle.
        """
        ids = sorted(set(patient_ids))  # one order for every writer: no deadlock between two
        if ids:
            with connection.cursor() as cursor:
                cursor.execute(self.outdate_sql(len(ids)), ids)

    def outdate_sql(self, patients: int) -> str:
        """The statement of `outdate` for that many patient ids, its parameters. An id that
        is no patient's is passed over (an event naming one is no reason to fail)."""
        table = self.model._meta.db_table
        patient_table = self.model._meta.get_field("patient").related_model._meta.db_table
        return (
            f"INSERT INTO {table} (patient_id, version)"
            f" SELECT id, 1 FROM {patient_table} WHERE id IN ({', '.join(['%s'] * patients)})"
            " ORDER BY id"
            f" ON CONFLICT (patient_id) DO UPDATE SET version = {table}.version + 1"
        )


class ClinicRowVersion(models.Model):
    """Raised by every write that can change a figure of the patient's clinic-table row, in
    that write's transaction (`ClinicRowVersion.objects.outdate`, from the write's event): a
    ClinicRow computed before it no longer holds. A table of its own, so that raising it
    neither waits for nor overwrites an edit of the patient's record."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.PositiveBigIntegerField(default=0)

    objects = ClinicRowVersionManager()


def ledger_analyze() -> None:
    """Fresh planner statistics for the tables a rebuild of the ledger rewrites wholesale
    (the ledger, the patients' row versions), and for those it reads them with. Until
    autovacuum gets to them, PostgreSQL would plan the clinic table and the tick over
    guesses (a fresh load reads as a few rows). SQLite has ANALYZE too."""
    tables = [
        AdherenceDay._meta.db_table,
        ClinicRowVersion._meta.db_table,
        LedgerPatient._meta.db_table,
        Prescription._meta.db_table,
        AdherenceDay._meta.get_field("patient").related_model._meta.db_table,
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
