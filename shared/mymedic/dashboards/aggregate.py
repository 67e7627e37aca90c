"""A chart's rows: its view's rows filtered, grouped by its dimensions (and the currency
of its money) and aggregated, money exactly (integers, then Decimal in major units)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from mymedic.dashboards.model import Chart, Filter, Metric
from mymedic.domain.money import minor_unit_exponent
from mymedic.ports import Row

Number = int | float | Decimal

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda value, allowed: value in allowed,
    "not_in": lambda value, refused: value not in refused,
}


@dataclass(frozen=True)
class Line:
    """One aggregated row: its dimension values, the currency of its money (None when
    the chart has none) and one value per metric, money as Decimal in major units."""

    keys: tuple[Any, ...]
    currency: str | None
    values: tuple[Number | None, ...]


def aggregate(chart: Chart, rows: Iterable[Row]) -> list[Line]:
    kept = [row for row in rows if all(_passes(row, f) for f in chart.filters)]
    currency_column = chart.currency_column
    groups: dict[tuple[tuple[Any, ...], str | None], list[Row]] = {}
    for row in kept:
        keys = tuple(row[d] for d in chart.dimensions)
        currency = row[currency_column] if currency_column else None
        groups.setdefault((keys, currency), []).append(row)
    lines = [
        Line(keys, currency, tuple(_value(m, members, currency) for m in chart.metrics))
        for (keys, currency), members in groups.items()
    ]
    lines = _sorted(chart, lines)
    return lines[: chart.limit] if chart.limit else lines


def _passes(row: Row, rule: Filter) -> bool:
    value = row[rule.column]
    if value is None:
        return rule.op in ("ne", "not_in")
    return _COMPARE[rule.op](value, rule.value)


def _value(metric: Metric, rows: Sequence[Row], currency: str | None) -> Number | None:
    values = [row[metric.column] for row in rows if row[metric.column] is not None]
    if metric.aggregation == "count":
        return len(values)
    if metric.aggregation == "none" and len(rows) > 1:
        # The model admits "none" only at the grain of the chart's source.
        raise ValueError(f"{metric.column}: {len(rows)} rows where the chart shows one row's")
    if not values:
        return None
    if metric.money is None:
        numbers = [float(v) if isinstance(v, Decimal) else v for v in values]
        return _plain(metric.aggregation, numbers)
    minor = [int(v) for v in values]
    if currency is None:
        if any(minor):
            raise ValueError(f"{metric.column}: an amount without a currency")
        return None
    if metric.aggregation in ("sum", "none"):
        total: Decimal = Decimal(sum(minor))
    elif metric.aggregation == "avg":
        total = Decimal(sum(minor)) / Decimal(len(minor))
    else:
        total = Decimal(max(minor) if metric.aggregation == "max" else min(minor))
    return to_major(total, currency, metric.money.unit)


def _plain(aggregation: str, numbers: list[Any]) -> Number:
    if aggregation in ("sum", "none"):
        return sum(numbers)  # type: ignore[no-any-return]
    if aggregation == "avg":
        return float(sum(numbers)) / len(numbers)
    return max(numbers) if aggregation == "max" else min(numbers)  # type: ignore[no-any-return]


def to_major(amount: Decimal, currency: str, unit: str = "minor") -> Decimal:
    """Minor units (or micros) of ``currency`` in major units, to the currency's
    decimals: ``to_major(Decimal(150050), "INR") == Decimal("1500.50")``."""
    exponent = minor_unit_exponent(currency)
    major = amount.scaleb(-(exponent if unit == "minor" else 6))
    return major.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)


def money_text(amount: Decimal | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return "—"
    return f"{currency} {amount:,.{minor_unit_exponent(currency)}f}"


def value_text(metric: Metric, value: Number | None, currency: str | None) -> str:
    if metric.money is not None:
        return money_text(value if isinstance(value, Decimal) else None, currency)
    if value is None:
        return "—"
    if metric.percent:
        return f"{float(value) * 100:.1f}%"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.2f}"


def key_text(value: Any) -> str:
    if value is None:
        return "(none)"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _sortable(value: Any) -> tuple[bool, Any]:
    return (value is None, value if value is not None else 0)


def _sorted(chart: Chart, lines: list[Line]) -> list[Line]:
    by_keys = sorted(lines, key=lambda line: (tuple(_sortable(k) for k in line.keys),))
    if chart.type == "timeseries" or chart.sort == "dimensions_asc":
        return by_keys
    if chart.sort == "dimensions_desc":
        return by_keys[::-1]
    # Largest first; ties (and no value) in dimension order.
    return sorted(
        by_keys,
        key=lambda line: (line.values[0] is None, -(line.values[0] or 0)),
    )
