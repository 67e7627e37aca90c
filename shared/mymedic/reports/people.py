"""A report's rows as people read them (CSV, XLSX, the snapshot PDF's tables): every
money column in major units of its row's currency, an exact Decimal with the currency's
own number of decimals (INR 2, JPY 0, KWD 3), named without its unit (``billed_minor``
-> ``billed``). Machine formats (JSON) keep the integer minor units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from mymedic.domain.money import minor_unit_exponent
from mymedic.ports import Row
from mymedic.reports.money_columns import MONEY_SUFFIXES, MoneyColumn, Unit, money_columns

MICROS_EXPONENT = 6


@dataclass(frozen=True)
class PeopleTable:
    columns: list[str]
    rows: list[dict[str, Any]]
    # Each money column (as shown) and the column holding its row's currency.
    currency_of: dict[str, str]

    def __post_init__(self) -> None:
        raw = [c for c in self.columns if c.endswith(MONEY_SUFFIXES)]
        if raw:
            raise ValueError(f"{', '.join(raw)}: minor units and micros are not for people")


def for_people(view: str, columns: Sequence[str], rows: Sequence[Row]) -> PeopleTable:
    """The rows of ``view`` with their money in major units. Where the view already has
    a column of the money's plain name (``rpt_google_ads.cost``, the micros divided out
    as they come), the one converted here, to the currency's decimals, takes its place."""
    money = money_columns(view, columns)
    names = {column: spec.name for column, spec in money.items()}
    replaced = (set(names.values()) - set(names)) & set(columns)
    kept = [column for column in columns if column not in replaced]
    converted = [
        {
            names.get(column, column): _cell(row.get(column), row, money.get(column))
            for column in kept
        }
        for row in rows
    ]
    return PeopleTable(
        [names.get(column, column) for column in kept],
        converted,
        {spec.name: spec.currency for spec in money.values()},
    )


def _cell(value: Any, row: Row, money: MoneyColumn | None) -> Any:
    if money is None or value is None:
        return value
    currency = row.get(money.currency)
    if not currency:
        if value == 0:
            return Decimal(0)
        raise ValueError(f"{money.column}: an amount ({value}) without a currency")
    return major_units(value, str(currency), money.unit)


def major_units(value: int | Decimal | float, currency: str, unit: Unit = "minor") -> Decimal:
    """``150050, "INR"`` -> ``Decimal("1500.50")``; ``1500, "JPY"`` -> ``Decimal("1500")``.
    Minor units convert exactly; micros and major-unit ratios are rounded half to even to
    the currency's decimals (as Google Ads bills)."""
    exponent = minor_unit_exponent(currency)
    if unit == "major":
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        if isinstance(value, bool | float) or value != int(value):
            raise ValueError(f"{value!r} is not a whole number of {unit} units")
        scale = exponent if unit == "minor" else MICROS_EXPONENT
        amount = Decimal(int(value)).scaleb(-scale)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)
