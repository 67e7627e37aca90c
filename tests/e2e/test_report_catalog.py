"""Every report of the catalogue runs on the embedded warehouse for a tenant and a range,
aligned to its grain, exported to CSV, JSON and XLSX with its header even when empty;
every money column has its currency column, and people's exports show major units."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import orjson
import pytest
from openpyxl import load_workbook

from mymedic.bootstrap import Platform
from mymedic.domain.money import minor_unit_exponent
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
from mymedic.reports.money_columns import MONEY_COLUMNS, MONEY_SUFFIXES, money_columns
from mymedic.reports.people import for_people
from tests.conftest import push_demo


@pytest.mark.parametrize("spec", REPORTS, ids=lambda spec: spec.name)
def test_a_report_runs_for_a_tenant_and_range_and_exports(
    platform: Platform, spec: ReportSpec
) -> None:
    found = report(spec.name)
    columns, rows = run(platform.warehouse, found, "nobody", date(2025, 1, 1), date(2025, 12, 31))
    assert rows == [] and columns[0] == "tenant_id" and found.date_column in columns
    table = for_people(found.view, columns, rows)
    assert not [c for c in table.columns if c.endswith(MONEY_SUFFIXES)]
    assert to_csv(table) == ",".join(table.columns) + "\n"
    document = orjson.loads(to_json(rows, {"report": found.view, "columns": columns}))
    assert document == {"report": found.view, "columns": columns, "rows": []}
    sheet = load_workbook(io.BytesIO(to_xlsx(table, found.view))).active
    assert sheet is not None and [cell.value for cell in sheet[1]] == table.columns


@pytest.mark.parametrize("spec", REPORTS, ids=lambda spec: spec.name)
def test_every_money_column_has_its_currency_column(platform: Platform, spec: ReportSpec) -> None:
    """Minor units and micros named by the suffix, and any other money column the table
    lists, each with a currency column the view has. A new money column without an entry
    fails here (and ``money_columns`` refuses it at run time)."""
    assert spec.view in MONEY_COLUMNS, f"{spec.view}: say which columns are money"
    columns = platform.warehouse.columns(spec.view)
    money = money_columns(spec.view, columns)
    assert {c for c in columns if c.endswith(MONEY_SUFFIXES)} <= set(money)
    for column, entry in money.items():
        assert entry.currency in columns, f"{spec.view}.{column}: no {entry.currency}"
        assert not entry.currency.endswith(MONEY_SUFFIXES)


def test_people_see_every_amount_in_major_units_and_machines_in_minor_units(
    platform: Platform,
) -> None:
    """A synthetic chain through every report: each CSV amount is the view's integer
    minor units over 10^exponent of its row's currency, exactly; JSON keeps them."""
    push_demo(platform, seed=3, appointments=80)
    checked = 0
    for spec in REPORTS:
        columns, rows = run(platform.warehouse, spec, None)
        money = money_columns(spec.view, columns)
        table = for_people(spec.view, columns, rows)
        text = to_csv(table).splitlines()
        assert not [c for c in text[0].split(",") if c.endswith(MONEY_SUFFIXES)]
        for row, shown in zip(rows, table.rows, strict=True):
            for column, entry in money.items():
                if entry.unit != "minor" or row[column] is None or not row[entry.currency]:
                    continue
                exponent = minor_unit_exponent(row[entry.currency])
                assert shown[entry.name] == Decimal(row[column]).scaleb(-exponent)
                assert shown[entry.name].as_tuple().exponent == -exponent
                checked += 1
        document = orjson.loads(to_json(rows, {"columns": columns}))
        assert [set(r) for r in document["rows"]] == [set(columns)] * len(rows)
    assert checked > 100


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
