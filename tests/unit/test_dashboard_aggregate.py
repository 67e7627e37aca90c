"""A chart's aggregation: filters, groups per currency, money exact in major units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mymedic.dashboards.aggregate import aggregate, money_text, to_major, value_text
from mymedic.dashboards.model import Chart


def _chart(**changes: object) -> Chart:
    base: dict[str, object] = {
        "id": "c",
        "type": "table",
        "title": "C",
        "data_source": "d",
        "dimensions": ["branch"],
        "metrics": [
            {"column": "paid", "aggregation": "avg", "money": {"currency_column": "currency"}},
            {"column": "visits", "aggregation": "sum"},
        ],
    }
    return Chart.model_validate(base | changes)


ROWS = [
    {"branch": "a", "currency": "INR", "paid": 100, "visits": 1, "mode": "upi"},
    {"branch": "a", "currency": "INR", "paid": 101, "visits": 2, "mode": "cash"},
    {"branch": "a", "currency": "JPY", "paid": 7, "visits": 1, "mode": "card"},
    {"branch": "b", "currency": "INR", "paid": 1, "visits": 5, "mode": "card"},
]


def test_money_is_grouped_by_currency_and_exact_in_major_units() -> None:
    lines = aggregate(_chart(sort="dimensions_asc"), ROWS)
    found = [(line.keys, line.currency, line.values) for line in lines]
    assert found == [
        (("a",), "INR", (Decimal("1.00"), 3)),  # 100.5 minor units, half to even
        (("a",), "JPY", (Decimal(7), 1)),
        (("b",), "INR", (Decimal("0.01"), 5)),
    ]
    assert to_major(Decimal(1_234_567), "KWD") == Decimal("1234.567")
    assert to_major(Decimal(2_500_000), "INR", "micros") == Decimal("2.50")
    assert money_text(Decimal("1234567.5"), "INR") == "INR 1,234,567.50"


def test_filters_sort_and_limit() -> None:
    chart = _chart(filters=[{"column": "mode", "op": "in", "value": ["upi", "card"]}], limit=1)
    [top] = aggregate(chart, ROWS)
    assert (top.keys, top.currency, top.values) == (("a",), "JPY", (Decimal(7), 1))
    share = _chart(metrics=[{"column": "visits", "aggregation": "max", "percent": True}])
    assert value_text(share.metrics[0], 0.125, None) == "12.5%"


def test_an_amount_without_a_currency_is_refused() -> None:
    rows = [{"branch": "a", "currency": None, "paid": 0, "visits": 1}]
    assert aggregate(_chart(), rows)[0].values == (None, 1)
    with pytest.raises(ValueError, match="without a currency"):
        aggregate(_chart(), [{**rows[0], "paid": 5}])
