"""Report rows as CSV, JSON or an Excel workbook; the header row is always written, so an
empty report still names its columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    names = list(columns) if columns is not None else list(rows[0]) if rows else []
    buffer = io.StringIO()
    if names:
        writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _plain(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def to_json(rows: Sequence[dict[str, Any]], meta: dict[str, Any] | None = None) -> str:
    """The rows as a JSON array or, with ``meta`` (report, columns, range), an object
    holding both."""
    plain = [{k: _plain(v) for k, v in row.items()} for row in rows]
    if meta is None:
        return orjson.dumps(plain).decode()
    return orjson.dumps({**{k: _plain(v) for k, v in meta.items()}, "rows": plain}).decode()


def to_xlsx(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str) -> bytes:
    """One sheet: a bold, frozen header row and the rows, dates as Excel dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has its first sheet
    sheet.title = title[:31]
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([_excel(row.get(name)) for name in columns])
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(10, min(40, len(name) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _excel(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: the UTC wall clock
    if isinstance(value, Decimal):
        return float(value)
    return value
