"""Only the ledger writes the ledger: every statement that changes the ledger's tables (its
days, its row per patient), in
the writes that touch it (a check-in, its correction, a new slot time, a pause, the tick, a
rebuild), is issued from inside prescriptions/adherence/ledger/."""

import re
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from prescriptions import checkins, services
from prescriptions.adherence import ledger_rebuild, ledger_tick
from prescriptions.models import AdherenceDay, LedgerPatient
from tests.factories import PatientFactory, knee_rocks

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
LEDGER = ROOT / "prescriptions" / "adherence" / "ledger"
TABLES = "|".join(model._meta.db_table for model in (AdherenceDay, LedgerPatient))
WRITE = re.compile(
    rf"^\s*(WITH\b.*)?\b(INSERT INTO|UPDATE|DELETE FROM)\s+\"?({TABLES})\b", re.I | re.S
)


def writer_of(frame) -> Path:
    """The innermost of the project's own source files on the stack."""
    while frame is not None:
        path = Path(frame.f_code.co_filename).resolve()
        if ROOT in path.parents and ".venv" not in path.parts and "tests" not in path.parts:
            return path
        frame = frame.f_back
    raise AssertionError("a write to the ledger from outside the project")


@pytest.fixture
def writers():
    found = []

    def watch(execute, sql, params, many, context):
        if WRITE.search(sql):
            found.append(writer_of(sys._getframe(1)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        yield found


def test_every_write_to_the_ledger_comes_from_the_ledger(writers, clinic_a, clinician_a):
    patient = PatientFactory(clinic=clinic_a, timezone="Europe/Paris")
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        rx = services.prescription_create(
            patient=patient,
            clinician=clinician_a,
            protocol=knee_rocks(),
            start_date=date(2026, 3, 1),
        )
    with time_machine.travel(start + timedelta(days=1), tick=False):
        ledger_tick()
        checkin = checkins.checkin_record(
            prescription=rx, slot="bedtime", performed_at=start, pain_before=4
        )
        checkins.checkin_correct(checkin=checkin, by=patient.user, changes={"pain_before": 3})
        services.prescription_update(
            prescription=rx,
            slots=[{"kind": "morning", "time": time(7)}, {"kind": "bedtime", "time": time(22, 30)}],
        )
        services.prescription_status_change(prescription=rx, to="paused")
        ledger_rebuild(prescription_ids=[rx.id])

    assert len(writers) >= 6
    outside = sorted(
        {str(path.relative_to(ROOT)) for path in writers if LEDGER not in path.parents}
    )
    assert outside == []
