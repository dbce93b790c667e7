"""The compliance report as files: CSV (UTF-8 with a byte-order mark, so spreadsheet
programs read Chinese names right) and XLSX (openpyxl, write-only for speed).

Opportunity and rep names are user input: a cell that starts with =, +, - or @ would be
run as a formula by the spreadsheet, so such text is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import json

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from services.actions.domain.reporting.compliance import TABLE_COLUMNS, ComplianceReport, report_rows, report_to_dict

JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_STATUS_FILL = {
    "green": PatternFill("solid", fgColor="C6EFCE"),
    "yellow": PatternFill("solid", fgColor="FFEB9C"),
    "red": PatternFill("solid", fgColor="FFC7CE"),
}


def _safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_json(report: ComplianceReport) -> bytes:
    return json.dumps(report_to_dict(report), ensure_ascii=False, indent=1).encode()


def to_csv(report: ComplianceReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TABLE_COLUMNS)
    for row in report_rows(report):
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: ComplianceReport) -> bytes:
    workbook = Workbook(write_only=True)
    rows = report_rows(report)
    status_at = TABLE_COLUMNS.index("status")
    bold = Font(bold=True)
    sheets = {
        "Summary": [r for r in rows if r[0] in ("total", "team")],
        "Reps": [r for r in rows if r[0] == "rep"],
        "Missing actions": [r for r in rows if r[0] == "missing_action"],
    }
    for title, sheet_rows in sheets.items():
        sheet = workbook.create_sheet(title)
        header = []
        for name in TABLE_COLUMNS:
            cell = _cell(sheet, name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in sheet_rows:
            cells = []
            for i, value in enumerate(row):
                cell = _cell(sheet, _safe(value))
                if i == status_at and value in _STATUS_FILL:
                    cell.fill = _STATUS_FILL[value]
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet, value):
    return WriteOnlyCell(sheet, value=value)


def render(report: ComplianceReport, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) for "json", "csv" or "xlsx"."""
    name = f"compliance-{report.tenant_id}-{report.week}"
    if fmt == "csv":
        return to_csv(report), CSV_TYPE, f"{name}.csv"
    if fmt == "xlsx":
        return to_xlsx(report), XLSX_TYPE, f"{name}.xlsx"
    return to_json(report), JSON_TYPE, f"{name}.json"
