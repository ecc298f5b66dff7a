"""Reports as files: CSV (UTF-8 with a byte-order mark, which spreadsheet programs need to
read Chinese) and XLSX. Every row names the ledger position the report was computed at,
so a file saved apart from its answer still says which state of the ledger it shows."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from projections.queries.reports import Report

POSITION_COLUMN = "as_of_position"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FIXED_TIME = datetime(2000, 1, 1)  # the workbook's own dates: the same report, the same file


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*report.columns, POSITION_COLUMN])
    for row in report.rows:
        writer.writerow([*row, report.position])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: Report) -> bytes:
    """One sheet of the table, and one saying what it is and at which position."""
    # openpyxl is imported here, when a spreadsheet is asked for: it is slow to import, and
    # every start of the server would pay for it otherwise.
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = report.name[:31]
    header = [*report.columns, POSITION_COLUMN]
    rows = [[*row, report.position] for row in report.rows]
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for index, column in enumerate(header):
        width = max([len(column), *(len(str(row[index])) for row in rows[:200])])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    about = book.create_sheet("about")
    about.append(["report", report.name])
    about.append(["title", report.title])
    about.append(["ledger position", report.position])
    for name, value in report.parameters.items():
        about.append([name, value])
    book.properties.created = _FIXED_TIME
    book.properties.modified = _FIXED_TIME
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_name(report: Report, extension: str) -> str:
    """`team-rankings-2026-10-at-1234.xlsx`: ASCII, for a Content-Disposition header."""
    period = report.parameters.get("period", "")
    stem = "-".join(part for part in (report.name, period, f"at-{report.position}") if part)
    return f"{stem}.{extension}"
