"""Money in minor units: each currency's ISO 4217 exponent, and decimal major-unit
amounts (as accounting systems send them) turned into integer minor units exactly."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents other than 2.
EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW"), 0),
    **dict.fromkeys(("PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def minor_unit_exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def to_minor_units(amount: Decimal | int | str, currency: str) -> int:
    """``amount`` in major units (``Decimal("1500.5")``) as minor units (150050 for
    INR). A float is refused: parse amounts straight into Decimal. More decimals than
    the currency has (``1500.505`` INR, ``10.5`` JPY) is a ValueError, never rounded."""
    if isinstance(amount, bool | float):
        raise TypeError(f"an amount must be a Decimal, int or str, not {type(amount).__name__}")
    try:
        number = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"{str(amount)[:40]!r} is not a number") from None
    if not number.is_finite():
        raise ValueError("an amount must be finite")
    exponent = minor_unit_exponent(currency)
    minor = number.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency} amounts take at most {exponent} decimal places")
    return int(minor)
