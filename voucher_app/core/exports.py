"""Exports of a table as CSV or XLSX, for every report and statement page.

CSV is written with a byte-order mark so Excel on a bureau PC opens the Chinese text correctly; XLSX
(openpyxl) keeps numbers as numbers. Money goes out in yuan with two decimals — a spreadsheet reader
thinks in yuan — computed from integer fen without floating point.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

FORMATS = ("csv", "xlsx")
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def table_response(filename: str, title: str, header: Sequence[str], rows: Iterable[Sequence], fmt: str) -> Response:
    """``rows`` as a download named ``filename.<fmt>``; ``title`` names the XLSX sheet."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    body = _csv(header, rows) if fmt == "csv" else _xlsx(title, header, rows)
    name = f"{filename}.{fmt}"
    ascii_name = name.encode("ascii", "ignore").decode() or f"export.{fmt}"
    return Response(body, mimetype=MIME[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})


def _csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = _sheet_title(title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        for cell, value in zip(sheet[sheet.max_row], row):
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(10, width * 2 + 2), 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip() or "Sheet1"
    return cleaned[:31]
