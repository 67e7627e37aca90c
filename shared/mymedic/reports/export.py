"""Report rows as CSV or JSON text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

REPORTS = {
    "patient-volume": "rpt_patient_volume",
}


def view_name(report: str) -> str:
    if report in REPORTS:
        return REPORTS[report]
    if report in REPORTS.values():
        return report
    raise KeyError(f"no report {report!r}; known: {', '.join(sorted(REPORTS))}")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _plain(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return orjson.dumps([{k: _plain(v) for k, v in row.items()} for row in rows]).decode()
