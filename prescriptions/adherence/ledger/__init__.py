"""The adherence ledger: what each prescription expected, day by day, as it happened.

Expected sessions depend on the slots and the zone in force when each one fell due, and
on the status history. Worked out again from the current slots at every read, history
would move whenever a slot or a zone changes, and a clinic's report would cost one
computation per patient and day. So this module keeps one `AdherenceDay` row per
prescription and local date, and reports aggregate those rows in SQL.

Sources, and what each change does:
- `ScheduleChange`: the slots and zone from an instant on. A new slot time or zone adds a
  change at that instant and rewrites only what is still to come.
- `StatusChange`: pause, resume, end. A change with a past `effective` rewrites the
  prescription's days from that instant on.
- start and end dates: moving them rewrites the prescription from its start.
- `created_at`: on the day it was written, the slots already gone by then expect nothing
  (days.Sources.asked_for); it never changes.
- check-ins: counted on their day as they are recorded, inside the check-in's transaction
  (counts.py, `checkin_count`).

Besides its days, the ledger keeps a row per patient (patients.py): their first
prescription's start, the check-ins and pain of its first week, their last check-in, worked
out again after each of the writes above, so that a report of every patient reads them
without searching each one's history.

Rows are written a local day at a time: when a prescription's `ledger_until` has passed
(normally its patient's midnight), the reminder tick writes the day that begins, with the
instant each session will fall due. Reports count a session as expected once that instant
has passed, so a session is expected whether or not its reminder was sent, skipped or
late. Reports first write what the tick has not written yet (`ledger_catch_up`), so they
stay right while the scheduler is down, and for prescriptions made without the services.

`ledger_rebuild` writes everything again from the sources; it must equal what was kept.
"""

from prescriptions.adherence.ledger.counts import checkin_count
from prescriptions.adherence.ledger.patients import PAIN_WINDOW_DAYS, ledger_patients_refresh
from prescriptions.adherence.ledger.sources import sources_for
from prescriptions.adherence.ledger.write import (
    ledger_catch_up,
    ledger_rebuild,
    ledger_rewrite,
    ledger_tick,
    prescription_ledger_rebuild,
    schedule_change,
    schedule_snapshot,
    schedule_start,
)

__all__ = [
    "PAIN_WINDOW_DAYS",
    "checkin_count",
    "ledger_catch_up",
    "ledger_patients_refresh",
    "ledger_rebuild",
    "ledger_rewrite",
    "ledger_tick",
    "prescription_ledger_rebuild",
    "schedule_change",
    "schedule_snapshot",
    "schedule_start",
    "sources_for",
]
