"""Report rows as CSV, JSON or an Excel workbook; the header row is always written, so an
empty report still names its columns. CSV and XLSX are for people: they take a
``PeopleTable`` (money in major units, ``reports.people``); JSON is for machines and keeps
the integer minor units."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from mymedic.domain.money import minor_unit_exponent
from mymedic.reports.people import PeopleTable

# Excel keeps 15 significant digits: an amount with more is written as text, exactly.
EXCEL_DIGITS = 15


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_csv(table: PeopleTable) -> str:
    buffer = io.StringIO()
    if table.columns:
        writer = csv.DictWriter(buffer, fieldnames=table.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _plain(v) for k, v in row.items()} for row in table.rows)
    return buffer.getvalue()


def to_json(rows: Sequence[dict[str, Any]], meta: dict[str, Any] | None = None) -> str:
    """The rows as a JSON array or, with ``meta`` (report, columns, range), an object
    holding both."""
    plain = [{k: _plain(v) for k, v in row.items()} for row in rows]
    if meta is None:
        return orjson.dumps(plain).decode()
    return orjson.dumps({**{k: _plain(v) for k, v in meta.items()}, "rows": plain}).decode()


def to_xlsx(table: PeopleTable, title: str) -> bytes:
    """One sheet: a bold, frozen header row and the rows, dates as Excel dates, money as
    numbers formatted with its currency's decimals (each cell its row's currency)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has its first sheet
    sheet.title = title[:31]
    columns = table.columns
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in table.rows:
        sheet.append([_excel(row.get(name), name in table.currency_of) for name in columns])
        for index, name in enumerate(columns, start=1):
            shown_as = _money_format(table, name, row)
            if shown_as is not None:
                sheet.cell(sheet.max_row, index).number_format = shown_as
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(10, min(40, len(name) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def money_format(currency: str) -> str:
    """``#,##0.00`` for INR, ``#,##0`` for JPY, ``#,##0.000`` for KWD."""
    exponent = minor_unit_exponent(currency)
    return "#,##0" + ("." + "0" * exponent if exponent else "")


def _money_format(table: PeopleTable, column: str, row: dict[str, Any]) -> str | None:
    currency_column = table.currency_of.get(column)
    currency = row.get(currency_column) if currency_column else None
    amount = row.get(column)
    if not currency or not isinstance(amount, Decimal) or not _fits_excel(amount):
        return None
    return money_format(str(currency))


def _fits_excel(amount: Decimal) -> bool:
    return len(amount.as_tuple().digits) <= EXCEL_DIGITS


def _excel(value: Any, money: bool = False) -> Any:
    """A cell's value. Money stays Decimal: openpyxl writes it with 16 significant
    digits, so up to Excel's 15 it reads back exact at the currency's decimals."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: the UTC wall clock
    if isinstance(value, Decimal) and money:
        return value if _fits_excel(value) else str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value
