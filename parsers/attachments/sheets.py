"""Spreadsheet text: one line per non-empty row, cells joined by a tab, each sheet headed by its name."""
from __future__ import annotations

import io

from govingest.parsers.attachments.limits import Limits
from govingest.parsers.attachments.safezip import SafeZip
from govingest.parsers.model import ParseError
from govingest.states import ErrorKind


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _rows_to_lines(name: str, rows: object, limits: Limits, budget: list[int]) -> tuple[list[str], bool]:
    lines = [name] if name else []
    for row in rows:  # type: ignore[attr-defined]
        cells = [_cell(v) for v in row]
        budget[0] -= len(cells)
        if budget[0] < 0:
            return lines, True
        cells = [c for c in cells if c]
        if cells:
            lines.append("\t".join(cells))
    return lines, False


def xlsx_paragraphs(body: bytes, limits: Limits) -> tuple[list[str], bool]:
    """openpyxl in read-only mode, after checking every member's inflated size (ZIP bomb)."""
    z = SafeZip(body, limits, "XLSX")
    for name in z.names():
        if name.endswith(".xml"):
            z.read(name)  # raises on a member past the caps before openpyxl inflates it unbounded
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to its own errors on a bad file
        raise ParseError(f"corrupt XLSX: {type(exc).__name__}: {str(exc)[:200]}", kind=ErrorKind.ATTACHMENT_CORRUPT) from None
    out: list[str] = []
    budget = [limits.max_cells]
    try:
        for ws in wb.worksheets:
            lines, cut = _rows_to_lines(ws.title if len(wb.worksheets) > 1 else "", ws.iter_rows(values_only=True),
                                        limits, budget)
            out.extend(lines)
            if cut:
                return out, True
    finally:
        wb.close()
    return out, False


def xls_paragraphs(body: bytes, limits: Limits) -> tuple[list[str], bool]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=body, on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, struct errors, IndexError… on a bad file
        raise ParseError(f"corrupt XLS: {type(exc).__name__}: {str(exc)[:200]}", kind=ErrorKind.ATTACHMENT_CORRUPT) from None
    out: list[str] = []
    budget = [limits.max_cells]
    try:
        for i in range(book.nsheets):
            sheet = book.sheet_by_index(i)
            rows = (sheet.row_values(r) for r in range(sheet.nrows))
            lines, cut = _rows_to_lines(sheet.name if book.nsheets > 1 else "", rows, limits, budget)
            out.extend(lines)
            book.unload_sheet(i)
            if cut:
                return out, True
    finally:
        book.release_resources()
    return out, False
