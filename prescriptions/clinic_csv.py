"""The clinic table as CSV, for the API's `GET adherence/?format=csv` and the clinic's web
page alike: the same columns, cells and file name."""

import csv
from datetime import UTC, date, datetime

from django.http import StreamingHttpResponse

CSV_COLUMNS = [
    "patient",
    "first_name",
    "last_name",
    "from",
    "to",
    "expected_sessions",
    "completed_sessions",
    "adherence_pct",
    "active_days",
    "days_with_session",
    "current_streak_days",
    "extra_sessions",
    "night_sessions",
    "pain_baseline",
    "pain_recent",
    "pain_change",
    "pain_meaningful",
    "last_check_in",
    "open_alerts",
    "prescription_status",
    "adherence_pct_7d",
]


def spreadsheet_safe(text: str) -> str:
    """A name a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        # UTC with a Z, whatever the server's TIME_ZONE: an export means the same anywhere.
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Line:
    """What csv.writer writes to: each line is handed back instead of stored."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows):
    """The CSV export line by line, so that it streams: rows are written as they are read."""
    writer = csv.DictWriter(_Line(), fieldnames=CSV_COLUMNS, extrasaction="ignore")
    yield writer.writeheader()
    for row in rows:
        pain = row["pain"]
        flat = {
            **row,
            "pain_baseline": pain["baseline"],
            "pain_recent": pain["recent"],
            "pain_change": pain["change"],
            "pain_meaningful": pain["meaningful"],
        }
        cells = {name: _cell(flat.get(name)) for name in CSV_COLUMNS}
        cells["first_name"] = spreadsheet_safe(cells["first_name"])
        cells["last_name"] = spreadsheet_safe(cells["last_name"])
        yield writer.writerow(cells)


def csv_response(rows, clinic, start: date, end: date) -> StreamingHttpResponse:
    """The download of the clinic table's rows for start..end. Streamed from a server-side
    cursor: memory stays flat however big the clinic."""
    response = StreamingHttpResponse(
        csv_lines(rows.stream()), content_type="text/csv; charset=utf-8"
    )
    filename = f"adherence-{clinic.slug}-{start.isoformat()}-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
