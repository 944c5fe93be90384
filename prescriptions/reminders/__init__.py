"""Reminders: due → claim → deliver.

The database is the scheduler. Every `PrescriptionSlot` holds `next_fire_at`, the next
instant it is due (see schedule.py for the rules), so one periodic tick finds what is due
with an indexed range query, however many patients there are:

1. `plan.py`: a prescription's reminder times, and `slots_reschedule`, which keeps each
   slot's `next_fire_at` current whenever the prescription, its status or the patient's
   zone changes.
2. `tick.py`: `reminders_tick` locks the due slots (`SKIP LOCKED` on PostgreSQL, so
   overlapping ticks never take the same slot; SQLite's IMMEDIATE transactions serialise
   them), decides each reminder there and then (`queued`, or `skipped` with its reason),
   inserts it under the unique (prescription, slot, local_date) constraint, advances
   `next_fire_at` and, after commit, queues one delivery task per batch of reminder ids.
   Each tick also recovers what a lost message or a killed worker left behind: a reminder
   never attempted is queued again while still on time; one left mid-attempt is closed as
   `failed` once too late, since it may already have been sent.
3. `deliver.py`: `reminders_deliver` claims, checks again, sends and records each one.

The patient's reminder preferences (channel, quiet hours, webhook) live in `patients`.
"""
