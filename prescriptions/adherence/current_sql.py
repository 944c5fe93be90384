"""A patient's current prescription (docs/definitions.md, "Current prescription") as SQL:
the one definition, which the clinic table's statement (clinic_sql.py) and every page
(current.py) read.

Each fragment is a template: `{patient}` is the SQL of the patient's id and `{today}` that
of their local date. Each is a COALESCE of at most three probes of the prescriptions'
patient index, the first that finds one answering: the latest started of those running,
else the next to start, else the latest started of all (every one of them ended, then).
"""

# Not read ended: neither ended by hand nor past its end date (models.status_read).
_OPEN = "rx.status <> 'ended' AND (rx.end_date IS NULL OR rx.end_date >= {today})"
RUNNING = f"{_OPEN} AND rx.start_date <= {{today}}"
UPCOMING = f"{_OPEN} AND rx.start_date > {{today}}"
LATEST = "rx.start_date DESC, rx.id DESC"
EARLIEST = "rx.start_date, rx.id"


def _first(what: str, where: str = "", order: str = "") -> str:
    """`what` of the patient's first prescription `rx` in `order` that meets `where`."""
    return (
        f"(SELECT {what} FROM prescriptions_prescription rx WHERE rx.patient_id = {{patient}}"
        + (f" AND {where}" if where else "")
        + (f" ORDER BY {order}" if order else "")
        + " LIMIT 1)"
    )


ENDED = "'ended'"

# The current prescription's id; NULL for a patient never prescribed.
CURRENT_ID = (
    f"COALESCE({_first('rx.id', RUNNING, LATEST)}, {_first('rx.id', UPCOMING, EARLIEST)},"
    f" {_first('rx.id', order=LATEST)})"
)

# What it reads (models.status_read): its status while running or to come (neither reads
# ended), else 'ended', which all of them read then: that probe needs no order. NULL for a
# patient never prescribed.
PRESCRIPTION_STATUS = (
    f"COALESCE({_first('rx.status', RUNNING, LATEST)},"
    f" {_first('rx.status', UPCOMING, EARLIEST)}, {_first(ENDED)})"
)
