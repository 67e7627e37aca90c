"""Every report of the catalogue runs on the embedded warehouse for a tenant and a range,
aligned to its grain, exported to CSV, JSON and XLSX with its header even when empty."""

from __future__ import annotations

import io
from datetime import date

import orjson
import pytest
from openpyxl import load_workbook

from mymedic.bootstrap import Platform
from mymedic.reports.catalog import (
    REPORTS,
    BadRange,
    ReportSpec,
    UnknownReport,
    date_range,
    report,
    run,
)
from mymedic.reports.export import to_csv, to_json, to_xlsx


@pytest.mark.parametrize("spec", REPORTS, ids=lambda spec: spec.name)
def test_a_report_runs_for_a_tenant_and_range_and_exports(
    platform: Platform, spec: ReportSpec
) -> None:
    found = report(spec.name)
    columns, rows = run(platform.warehouse, found, "nobody", date(2025, 1, 1), date(2025, 12, 31))
    assert rows == [] and columns[0] == "tenant_id" and found.date_column in columns
    assert to_csv(rows, columns) == ",".join(columns) + "\n"
    document = orjson.loads(to_json(rows, {"report": found.view, "columns": columns}))
    assert document == {"report": found.view, "columns": columns, "rows": []}
    sheet = load_workbook(io.BytesIO(to_xlsx(rows, columns, found.view))).active
    assert sheet is not None and [cell.value for cell in sheet[1]] == columns


def test_a_range_is_aligned_to_the_grain_and_bounded() -> None:
    month = date_range(report("revenue-breakdown"), date(2025, 3, 15), date(2025, 5, 10))
    assert (month.column, month.start, month.end) == ("month", date(2025, 3, 1), date(2025, 5, 10))
    week = date_range(report("waiting-time"), date(2025, 9, 4), date(2025, 9, 30))
    assert week.start == date(2025, 9, 1)  # the Monday of that ISO week
    day = date_range(report("google-ads"), date(2025, 9, 4), date(2025, 9, 4))
    assert (day.column, day.start) == ("day", date(2025, 9, 4))
    assert date_range(report("leakage"), date(2020, 2, 29), date(2025, 2, 28)).end.year == 2025
    with pytest.raises(BadRange, match="longer than 5 years"):
        date_range(report("leakage"), date(2020, 2, 29), date(2025, 3, 1))
    with pytest.raises(BadRange, match="before"):
        date_range(report("leakage"), date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(UnknownReport, match="patient-volume"):
        report("no-such-report")
    assert report("rpt_google_ads").name == "google-ads"
