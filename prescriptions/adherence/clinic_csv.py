"""The clinic table as CSV, for the API's `GET adherence/?format=csv` and the clinic's web
page alike: the same columns, cells and file name."""

import csv
from datetime import date
from itertools import islice

from django.db import connection
from django.http import StreamingHttpResponse

import prescriptions.adherence.report as adherence
from prescriptions import extensions
from prescriptions.adherence.dialects import DIALECTS

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


def _quoted(text: str, d: dict, holds: str = "") -> str:
    """A text cell as csv.writer writes it (QUOTE_MINIMAL): within quotes, its own quotes
    doubled, when it holds a comma, a quote, CR or LF (when `holds` does: a text with the
    same ones, cheaper to read)."""
    doubled = f"""'"' || replace({text}, '"', '""') || '"'"""
    return f"CASE WHEN {d['needs_quotes'].format(holds or text)} THEN {doubled} ELSE {text} END"


def _name(column: str, d: dict) -> str:
    """A name as spreadsheet_safe keeps it, then quoted as a CSV needs: when the name holds
    what a CSV quotes (the mark spreadsheet_safe may add is none of that)."""
    first = ", ".join(["'='", "'+'", "'-'", "'@'", d["char"].format(9), d["char"].format(13)])
    safe = f"CASE WHEN substr({column}, 1, 1) IN ({first}) THEN '''' || {column} ELSE {column} END"
    return _quoted(safe, d, holds=column)


def _number(column: str) -> str:
    return f"COALESCE(CAST({column} AS TEXT), '')"


def _tenths(column: str) -> str:
    """Tenths as the Decimal they stand for reads (-0.5, 0.0, 85.3); empty for none. (%% is
    the remainder: the statement has parameters.)"""
    sign = f"CASE WHEN {column} < 0 THEN '-' ELSE '' END"
    digits = f"CAST(ABS({column}) / 10 AS TEXT) || '.' || CAST(ABS({column}) %% 10 AS TEXT)"
    return f"COALESCE({sign} || {digits}, '')"


def _instant(column: str) -> str:
    """An instant of the row (ISO text in UTC: clinic_sql's `instant_text`) in UTC with a Z,
    whatever the server's TIME_ZONE: an export means the same anywhere. Whole seconds
    always: a column half "…:00Z", half "…:33.412907Z" reads (and sorts, in a
    spreadsheet) as two."""
    return f"COALESCE(substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || 'Z', '')"


def line_sql(d: dict) -> str:
    """A row's cells in CSV_COLUMNS' order as one line of text (without its end), over the
    columns of a row of the clinic table; `d`: clinic_sql's dialect. Built by the database,
    the whole CSV is read as one text a row rather than some twenty values, each loaded
    and then written by Python."""
    meaningful = int(adherence.MEANINGFUL_PAIN_CHANGE * 10)
    cells = [
        _number("id"),
        _name("first_name", d),
        _name("last_name", d),
        d["date_text"].format("d_from"),
        d["date_text"].format("d_to"),
        _number("expected_sessions"),
        _number("completed_sessions"),
        _tenths("adherence_tenths"),
        _number("active_days"),
        _number("days_with_session"),
        _number("current_streak_days"),
        _number("extra_sessions"),
        _number("night_sessions"),
        _tenths("baseline_tenths"),
        _tenths("recent_tenths"),
        _tenths("pain_change_tenths"),
        f"CASE WHEN ABS(pain_change_tenths) >= {meaningful} THEN 'true' ELSE 'false' END",
        _instant("last_check_in"),
        _number("open_alerts"),
        _quoted("COALESCE(prescription_status, '')", d),
        _tenths("week_tenths"),
    ]
    return " || ',' || ".join(cells)


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
    cells are read first, for the whole clinic in a query each (a few small values for
    the patients who have some: the memory they take is far below the rows'), and each
    patient's written once, at the end of their line."""
    writer = csv.writer(_Line())
    none, found = extensions.clinic_csv_found(clinic_id)
    # A first cell (empty) that stands for the line before them: csv.writer writes a lone
    # empty cell as "" (an empty line would be no row), never so inside a line.
    ends = {patient_id: writer.writerow(["", *cells]) for patient_id, cells in found.items()}
    end = writer.writerow(["", *none]) if none else writer.writerow([])
    yield (BOM if bom else "") + writer.writerow(csv_columns())
    lines = rows.stream_select(f"id, {line_sql(DIALECTS[connection.vendor])}")
    while chunk := list(islice(lines, lines_per_chunk)):
        yield "".join(line + ends.get(patient_id, end) for patient_id, line in chunk)


def csv_response(
    rows, clinic, start: date, end: date, *, bom: bool = False
) -> StreamingHttpResponse:
    """The download of the clinic table's rows for start..end (`bom`: for a spreadsheet,
    the web page's download). Streamed from a server-side cursor: memory stays flat however
    big the clinic."""
    response = StreamingHttpResponse(
        csv_lines(rows, clinic.id, bom=bom), content_type="text/csv; charset=utf-8"
    )
    filename = f"adherence-{clinic.slug}-{start.isoformat()}-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
