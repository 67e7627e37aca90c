"""Amounts for people: integer minor units (or Google Ads micros) shown in major units
with the currency's own number of decimals, through Decimal, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from mymedic.domain.money import minor_unit_exponent

MICROS_EXPONENT = 6


def minor(value: Any) -> int:
    """A money cell as an int; a float (or a fraction) here is a bug upstream."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"money must be integer minor units, not {type(value).__name__}")
    if value != int(value):
        raise ValueError(f"{value} is not a whole number of minor units")
    return int(value)


def major_amount(minor_units: int, currency: str) -> str:
    """``850000, "INR"`` -> ``8,500.00``; ``1500, "JPY"`` -> ``1,500``."""
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(minor_units).scaleb(-exponent):,.{exponent}f}"


def money(minor_units: int, currency: str) -> str:
    return f"{currency} {major_amount(minor_units, currency)}"


def micros_as_minor(micros: int, currency: str) -> int:
    """Google Ads micros (millionths of a major unit) as minor units, half to even."""
    exponent = minor_unit_exponent(currency)
    major = Decimal(micros).scaleb(-MICROS_EXPONENT)
    return int(major.scaleb(exponent).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def major_float(minor_units: int, currency: str) -> float:
    """For a chart's axis only: a bar's height, never a figure anyone adds up."""
    return float(Decimal(minor_units).scaleb(-minor_unit_exponent(currency)))
