"""The embedded default holds under concurrent writers: gunicorn's workers, a process
writing as the worker and beat do, and many patients posting at once on one SQLite file."""

import sqlite3

from tests import live_server

PATIENTS = 12
POSTS_EACH = 3


def test_it_stores_every_check_in_posted_at_once_while_the_worker_writes(tmp_path):
    database = tmp_path / "clinic.sqlite3"
    data = live_server.prepare(database, tmp_path, PATIENTS)
    port = live_server.free_port()

    with live_server.running(database, tmp_path, port=port) as writer:
        burst = live_server.burst(port, data, posts_per_patient=POSTS_EACH)
    rounds = int(writer.stdout.read().strip() or 0)

    assert burst.failures == []
    assert burst.statuses == {201: PATIENTS * POSTS_EACH, 200: 1}
    with sqlite3.connect(database) as db:
        (stored,) = db.execute("SELECT count(*) FROM prescriptions_checkin").fetchone()
        (status,) = db.execute(
            "SELECT status FROM prescriptions_prescription WHERE id = ?", (data["to_end"],)
        ).fetchone()
        (reminders,) = db.execute("SELECT count(*) FROM prescriptions_reminder").fetchone()
    assert stored == PATIENTS * POSTS_EACH
    assert status == "ended"
    # The writer really wrote meanwhile: every due slot became a reminder.
    assert rounds >= 1
    assert reminders >= 2 * PATIENTS
