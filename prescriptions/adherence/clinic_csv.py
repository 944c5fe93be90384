"""The clinic table as CSV, for the API's `GET adherence/?format=csv` and the clinic's web
page alike: the same columns, cells and file name."""

import csv
from datetime import UTC, date, datetime
from itertools import islice

from django.http import StreamingHttpResponse

from prescriptions import extensions

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


def _instant(value: datetime | None) -> str | None:
    """UTC with a Z, whatever the server's TIME_ZONE: an export means the same anywhere.
    Whole seconds always: isoformat() adds microseconds only when there are some, and a
    column half "…:00Z", half "…:33.412907Z" reads (and sorts, in a spreadsheet) as two."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _cells(row: dict) -> list:
    """A row's cells in CSV_COLUMNS' order. The csv module writes None as an empty cell and
    numbers and dates as their text (a date's is ISO 8601)."""
    pain = row["pain"]
    return [
        row["patient"],
        spreadsheet_safe(row["first_name"]),
        spreadsheet_safe(row["last_name"]),
        row["from"],
        row["to"],
        row["expected_sessions"],
        row["completed_sessions"],
        row["adherence_pct"],
        row["active_days"],
        row["days_with_session"],
        row["current_streak_days"],
        row["extra_sessions"],
        row["night_sessions"],
        pain["baseline"],
        pain["recent"],
        pain["change"],
        "true" if pain["meaningful"] else "false",
        _instant(row["last_check_in"]),
        row["open_alerts"],
        row["prescription_status"],
        row["adherence_pct_7d"],
    ]


class _Line:
    """What csv.writer writes to: each line is handed back instead of stored."""

    def write(self, line: str) -> str:
        return line


# Excel reads a CSV without a byte order mark in the machine's legacy code page, and garbles
# every name outside ASCII (Zoë, Łukasz); with it, as UTF-8. The API's CSV is for programs,
# which would take the mark for part of the first column's name: it goes without.
BOM = "\ufeff"


def csv_columns() -> list[str]:
    """The CSV's header: the clinic table's columns, then those other apps add (the
    outcomes' PSFS figures)."""
    return CSV_COLUMNS + extensions.clinic_csv_headers()


def csv_lines(rows, clinic_id: int, lines_per_chunk: int = 500, *, bom: bool = False):
    """The CSV export in chunks of lines, so that it streams: rows are written as they are
    read, and handed on a few hundred at a time rather than one by one. The other apps'
    cells are read first, for the whole clinic in a query each (a few small values a
    patient: the memory they take is far below the rows')."""
    more = extensions.clinic_csv_cells(clinic_id)
    writer = csv.writer(_Line())
    yield (BOM if bom else "") + writer.writerow(csv_columns())
    rows = iter(rows)
    while chunk := list(islice(rows, lines_per_chunk)):
        yield "".join(writer.writerow(_cells(row) + more(row["patient"])) for row in chunk)


def csv_response(
    rows, clinic, start: date, end: date, *, bom: bool = False
) -> StreamingHttpResponse:
    """The download of the clinic table's rows for start..end (`bom`: for a spreadsheet,
    the web page's download). Streamed from a server-side cursor: memory stays flat however
    big the clinic."""
    response = StreamingHttpResponse(
        csv_lines(rows.stream(), clinic.id, bom=bom), content_type="text/csv; charset=utf-8"
    )
    filename = f"adherence-{clinic.slug}-{start.isoformat()}-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
