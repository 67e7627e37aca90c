"""A report's rows as printable tables: which columns, how each cell reads, and how a
table wider than the page is split into parts that each repeat the row's identifying
columns (branch, month, mode...) before as many figures as fit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from reportlab.pdfbase.pdfmetrics import stringWidth

from mymedic.ports import Row
from mymedic.reports.snapshot.money import major_amount

FONT, BOLD, FONT_SIZE = "Helvetica", "Helvetica-Bold", 8
PADDING = 8.0
MAX_TEXT_WIDTH = 120.0  # wider text wraps
MIN_WIDTH = 30.0
MAX_PDF_ROWS = 400  # the attachments hold every row
# Shown as a percentage: shares, rates and year-on-year changes (fractions of 1).
_PERCENT_SUFFIXES = ("_share", "_change", "_rate")
# Money columns whose currency is not the row's "currency".
_CURRENCY_OF = {"paid_revenue_minor": "revenue_currency"}


@dataclass(frozen=True)
class TablePart:
    columns: list[str]
    headers: list[str]
    cells: list[list[str]]
    widths: list[float]
    numeric: list[bool]


def printable_columns(columns: Sequence[str]) -> list[str]:
    """Without the tenant (it is on the title page), an id next to its name
    (``clinician_id`` beside ``clinician_name``), micros next to the amount."""
    names = set(columns)
    dropped = {"tenant_id"}
    dropped |= {c for c in columns if c.endswith("_id") and c[:-3] + "_name" in names}
    if "cost" in names:
        dropped.add("cost_micros")
    return [c for c in columns if c not in dropped]


def header(column: str) -> str:
    return column.removesuffix("_minor").replace("_", " ")


def cell(column: str, row: Row) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column.endswith("_minor") and isinstance(value, int | Decimal):
        currency = row.get(_CURRENCY_OF.get(column, "currency"))
        return major_amount(int(value), currency) if currency else f"{value:,}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        if column.endswith(_PERCENT_SUFFIXES):
            return f"{float(value):.1%}"
        return f"{float(value):,.2f}"
    return str(value)


def table_parts(columns: Sequence[str], rows: Sequence[Row], available: float) -> list[TablePart]:
    shown = printable_columns(columns)
    rows = rows[:MAX_PDF_ROWS]
    cells = {c: [cell(c, row) for row in rows] for c in shown}
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
