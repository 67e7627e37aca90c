"""Exports for people: money in major units of its row's currency, exact, named without
its unit, in CSV, XLSX and the snapshot PDF's table cells. All amounts synthetic."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from mymedic.reports.export import to_csv, to_xlsx
from mymedic.reports.money_columns import UnknownMoneyColumn
from mymedic.reports.people import PeopleTable, for_people, major_units
from mymedic.reports.snapshot.tables import table_parts

ADS = [
    "tenant_id",
    "ads_currency",
    "cost_micros",
    "cost",
    "clicks",
    "paid_revenue_minor",
    "revenue_currency",
    "cost_per_booking",
]


@pytest.mark.parametrize(
    ("value", "currency", "unit", "expected"),
    [
        (150_050, "INR", "minor", "1500.50"),
        (-5, "INR", "minor", "-0.05"),
        (0, "INR", "minor", "0.00"),
        (1_500, "JPY", "minor", "1500"),
        (1_234, "KWD", "minor", "1.234"),
        (123_456_789_012_345, "INR", "minor", "1234567890123.45"),
        (1_234_565_000, "INR", "micros", "1234.56"),  # half to even
        (1_234_575_000, "INR", "micros", "1234.58"),
        (1_500_500_000, "JPY", "micros", "1500"),
        (1_501_500_000, "JPY", "micros", "1502"),
        (Decimal("411.521667"), "INR", "major", "411.52"),
        (Decimal("99.5"), "JPY", "major", "100"),
    ],
)
def test_major_units_have_the_currency_decimals_exactly(
    value: int | Decimal, currency: str, unit: Any, expected: str
) -> None:
    amount = major_units(value, currency, unit)
    assert str(amount) == expected
    assert amount == Decimal(expected)


def test_minor_units_must_be_whole() -> None:
    with pytest.raises(ValueError, match="whole number"):
        major_units(1.5, "INR")
    with pytest.raises(ValueError, match="whole number"):
        major_units(Decimal("10.5"), "INR")


def _ads_rows() -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": "t",
            "ads_currency": "INR",
            "cost_micros": 1_234_565_000,
            "cost": Decimal("1234.565000"),
            "clicks": 3,
            "paid_revenue_minor": 150_050,
            "revenue_currency": "INR",
            "cost_per_booking": Decimal("411.521667"),
        },
        # Bookings of no known ad account: no cost, no account currency.
        {
            "tenant_id": "t",
            "ads_currency": None,
            "cost_micros": 0,
            "cost": Decimal(0),
            "clicks": 0,
            "paid_revenue_minor": 1_500,
            "revenue_currency": "JPY",
            "cost_per_booking": None,
        },
    ]


def test_money_columns_are_renamed_and_converted_beside_their_currency() -> None:
    table = for_people("rpt_google_ads", ADS, _ads_rows())
    assert table.columns == [
        "tenant_id",
        "ads_currency",
        "cost",
        "clicks",
        "paid_revenue",
        "revenue_currency",
        "cost_per_booking",
    ]
    assert table.currency_of == {
        "cost": "ads_currency",
        "cost_per_booking": "ads_currency",
        "paid_revenue": "revenue_currency",
    }
    assert to_csv(table) == (
        "tenant_id,ads_currency,cost,clicks,paid_revenue,revenue_currency,cost_per_booking\n"
        "t,INR,1234.56,3,1500.50,INR,411.52\n"
        "t,,0,0,1500,JPY,\n"
    )


def test_an_amount_without_a_currency_or_an_unknown_money_column_is_refused() -> None:
    rows = _ads_rows()
    rows[1]["cost_micros"] = 10
    with pytest.raises(ValueError, match="cost_micros: an amount"):
        for_people("rpt_google_ads", ADS, rows)
    with pytest.raises(
        UnknownMoneyColumn, match="rpt_nps: no currency column is known for x_minor"
    ):
        for_people("rpt_nps", ["tenant_id", "x_minor"], [])
    with pytest.raises(ValueError, match="billed_minor"):
        PeopleTable(["billed_minor"], [], {})


def test_xlsx_amounts_are_numbers_exact_at_the_currency_decimals() -> None:
    columns = ["branch_id", "currency", "billed_minor", "paid_minor"]
    rows = [
        {
            "branch_id": "b1",
            "currency": "INR",
            "billed_minor": 123_456_789_012_345,
            "paid_minor": 10,
        },
        {"branch_id": "b2", "currency": "JPY", "billed_minor": 1_500, "paid_minor": None},
        {"branch_id": "b3", "currency": "KWD", "billed_minor": 1_234, "paid_minor": -1},
        # 16 significant digits: more than Excel keeps, so written as text.
        {
            "branch_id": "b4",
            "currency": "INR",
            "billed_minor": 1_234_567_890_123_456,
            "paid_minor": 0,
        },
    ]
    table = for_people("rpt_revenue_breakdown", columns, rows)
    sheet = load_workbook(io.BytesIO(to_xlsx(table, "revenue"))).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == ["branch_id", "currency", "billed", "paid"]
    found = [
        [(cell.value, cell.number_format) for cell in row[2:]] for row in sheet.iter_rows(min_row=2)
    ]
    assert found[0][1] == (0.1, "#,##0.00")
    assert found[1] == [(1500, "#,##0"), (None, "General")]
    assert found[2] == [(1.234, "#,##0.000"), (-0.001, "#,##0.000")]
    assert found[3][0] == ("12345678901234.56", "General")
    # What Excel shows: the number at the currency's decimals, to the last paisa.
    value, shown_as = found[0][0]
    assert isinstance(value, float) and shown_as == "#,##0.00"
    assert f"{value:,.2f}" == "1,234,567,890,123.45"


def test_pdf_table_cells_show_major_units_with_separators() -> None:
    columns = ["tenant_id", "branch_id", "currency", "billed_minor", "appointments"]
    rows = [
        {
            "tenant_id": "t",
            "branch_id": "b1",
            "currency": "INR",
            "billed_minor": 1_300_000,
            "appointments": 2,
        },
        {
            "tenant_id": "t",
            "branch_id": "b2",
            "currency": "JPY",
            "billed_minor": 1_500_000,
            "appointments": 1,
        },
    ]
    [part] = table_parts(for_people("rpt_revenue_breakdown", columns, rows), 800.0)
    assert part.headers == ["branch id", "currency", "billed", "appointments"]
    assert part.cells == [["b1", "INR", "13,000.00", "2"], ["b2", "JPY", "1,500,000", "1"]]
