"""A report's rows as printable tables: which columns, how each cell reads, and how a
table wider than the page is split into parts that each repeat the row's identifying
columns (branch, month, mode...) before as many figures as fit. Money is shown as
``reports.people`` gives it: major units of the row's currency, exact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from reportlab.pdfbase.pdfmetrics import stringWidth

from mymedic.ports import Row
from mymedic.reports.people import PeopleTable

FONT, BOLD, FONT_SIZE = "Helvetica", "Helvetica-Bold", 8
PADDING = 8.0
MAX_TEXT_WIDTH = 120.0  # wider text wraps
MIN_WIDTH = 30.0
MAX_PDF_ROWS = 400  # the attachments hold every row
# Shown as a percentage: shares, rates and year-on-year changes (fractions of 1).
_PERCENT_SUFFIXES = ("_share", "_change", "_rate")


@dataclass(frozen=True)
class TablePart:
    columns: list[str]
    headers: list[str]
    cells: list[list[str]]
    widths: list[float]
    numeric: list[bool]


def printable_columns(columns: Sequence[str]) -> list[str]:
    """Without the tenant (it is on the title page) and an id next to its name
    (``clinician_id`` beside ``clinician_name``)."""
    names = set(columns)
    dropped = {"tenant_id"}
    dropped |= {c for c in columns if c.endswith("_id") and c[:-3] + "_name" in names}
    return [c for c in columns if c not in dropped]


def header(column: str) -> str:
    return column.replace("_", " ")


def cell(column: str, row: Row, money: bool = False) -> str:
    """``money``: a Decimal in major units, already at its currency's decimals."""
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if money and isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        if column.endswith(_PERCENT_SUFFIXES):
            return f"{float(value):.1%}"
        return f"{float(value):,.2f}"
    return str(value)


def table_parts(table: PeopleTable, available: float) -> list[TablePart]:
    shown = printable_columns(table.columns)
    rows = table.rows[:MAX_PDF_ROWS]
    cells = {c: [cell(c, row, c in table.currency_of) for row in rows] for c in shown}
    numeric = {c: _is_numeric(c, rows) for c in shown}
    widths = {c: _width(c, cells[c], numeric[c]) for c in shown}
    keys = [c for c in shown if not numeric[c]]
    figures = [c for c in shown if numeric[c]]
    room = available - sum(widths[c] for c in keys)
    groups: list[list[str]] = [[]]
    for column in figures:
        if groups[-1] and sum(widths[c] for c in groups[-1]) + widths[column] > room:
            groups.append([])
        groups[-1].append(column)
    parts = []
    for group in groups:
        chosen = [c for c in shown if c in keys or c in group]
        parts.append(
            TablePart(
                chosen,
                [header(c) for c in chosen],
                [[cells[c][i] for c in chosen] for i in range(len(rows))],
                [widths[c] for c in chosen],
                [numeric[c] for c in chosen],
            )
        )
    return parts


def _is_numeric(column: str, rows: Sequence[Row]) -> bool:
    values = [row.get(column) for row in rows if row.get(column) is not None]
    if not values:
        return not column.endswith(("_id", "_name", "_type", "_ref", "currency", "mode"))
    return all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values)


def _width(column: str, cells: Sequence[str], numeric: bool) -> float:
    """Wide enough for the longest cell (text wraps past MAX_TEXT_WIDTH) and for the
    header's longest word (headers wrap between words)."""
    words = max(stringWidth(word, BOLD, FONT_SIZE) for word in header(column).split())
    longest = max((stringWidth(text, FONT, FONT_SIZE) for text in cells), default=0.0)
    if not numeric:
        longest = min(longest, MAX_TEXT_WIDTH)
    return max(MIN_WIDTH, words, longest) + PADDING
