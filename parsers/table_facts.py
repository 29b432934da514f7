"""table_facts: the figures of a data table kept in the text (a 统计公报's 主要工业产品产量).

Extraction keeps a table as lines of space-separated cells:

    产品名称 计量单位 产量 较上年±%
    饮料酒 千升 15767 18.64

Sentence facts need a unit right after the number (`parsers/facts`), which a table puts in
its own column or in the header, so its figures were lost. Here a table is a header line
of labels followed by at least two rows with as many cells, each a label then figures; a
figure's unit comes from the header (较上年±% → %, 金额（万元） → 万元) or the row's unit
column (计量单位), its indicator is the row label and the column header (饮料酒产量). A
line whose cells do not line up (a cell with a space inside) ends the table: no figure is
then read rather than one read against the wrong header.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from govingest.parsers.numbers import ARABIC_PATTERN, parse_number

_FIGURE = re.compile(rf"[-−]?(?:{ARABIC_PATTERN})")
_EMPTY = frozenset(("-", "—", "--", "——", "/", "…"))
_PERCENT = re.compile(r"[（(]?[±]?[%％][）)]?")
_HEADER_UNIT = re.compile(r"[（(]([^（）()]{1,6})[）)]$")
_UNIT_COLUMN = re.compile(r"单位$")
_MIN_CELLS = 3
_MIN_ROWS = 2
_CELL_MAX = 20  # a longer "cell" is a sentence: not a table line


@dataclass(frozen=True)
class TableFigure:
    """One figure of a table: which line, where in it, and what it measures."""

    line: int
    start: int
    end: int
    indicator: str
    value: Decimal
    unit: str


def table_figures(lines: list[str]) -> Iterator[TableFigure]:
    """The figures of every table found in `lines` (normalized paragraphs)."""
    i = 0
    while i < len(lines):
        header = _cells(lines[i])
        rows = _rows_under(lines, i, header)
        if len(rows) < _MIN_ROWS:
            i += 1
            continue
        columns = [_column(h) for h in header]
        unit_col = next((j for j, h in enumerate(header) if _UNIT_COLUMN.search(h)), None)
        for k in rows:
            yield from _row_figures(k, lines[k], columns, unit_col)
        i = rows[-1] + 1


def _cells(line: str) -> list[str]:
    cells = line.split()
    if len(cells) < _MIN_CELLS or any(len(c) > _CELL_MAX for c in cells):
        return []
    return cells


def _is_figure(cell: str) -> bool:
    return bool(_FIGURE.fullmatch(cell)) or cell in _EMPTY


def _rows_under(lines: list[str], i: int, header: list[str]) -> list[int]:
    """Indexes of the data rows under header line `i`: same cell count, a label, figures."""
    if not header or any(_is_figure(c) for c in header):
        return []
    rows = []
    for k in range(i + 1, len(lines)):
        cells = _cells(lines[k])
        if len(cells) != len(header) or _is_figure(cells[0]) or not any(_FIGURE.fullmatch(c) for c in cells[1:]):
            break
        rows.append(k)
    return rows


def _column(header: str) -> tuple[str, str | None]:
    """(what the column measures, its unit when the header names one)."""
    if _PERCENT.search(header):
        return _PERCENT.sub("", header).rstrip("±"), "%"
    m = _HEADER_UNIT.search(header)
    if m:
        return header[: m.start()], m.group(1)
    return header, None


def _row_figures(k: int, line: str, columns: list[tuple[str, str | None]],
                 unit_col: int | None) -> Iterator[TableFigure]:
    cells = line.split()
    pos = 0
    for j, cell in enumerate(cells):
        start = line.index(cell, pos)
        pos = start + len(cell)
        if j == 0 or j == unit_col or not _FIGURE.fullmatch(cell):
            continue
        name, unit = columns[j]
        unit = unit or (cells[unit_col] if unit_col is not None else None)
        value = _signed(cell)
        if unit and value is not None:
            yield TableFigure(k, start, pos, f"{cells[0]}{name}", value, unit)


def _signed(cell: str) -> Decimal | None:
    negative = cell[0] in "-−"
    value = parse_number(cell.lstrip("-−"))
    return -value if value is not None and negative else value
