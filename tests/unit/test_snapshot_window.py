"""Snapshot windows (which run sends which window) and amounts shown in major units."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mymedic.reports.snapshot.money import micros_as_minor, minor, money
from mymedic.reports.snapshot.window import Frequency, due_window


@pytest.mark.parametrize(
    ("frequency", "day", "expected"),
    [
        ("daily", date(2026, 11, 23), ("2026-11-22", date(2026, 11, 22), date(2026, 11, 22))),
        ("daily", date(2026, 3, 1), ("2026-02-28", date(2026, 2, 28), date(2026, 2, 28))),
        ("weekly", date(2026, 11, 23), ("2026-W47", date(2026, 11, 16), date(2026, 11, 22))),
        # 2026 has 53 ISO weeks; the week of 2027-01-01 is 2026's last.
        ("weekly", date(2027, 1, 4), ("2026-W53", date(2026, 12, 28), date(2027, 1, 3))),
        ("weekly", date(2026, 11, 24), None),
        ("monthly", date(2026, 12, 1), ("2026-11", date(2026, 11, 1), date(2026, 11, 30))),
        ("monthly", date(2027, 1, 1), ("2026-12", date(2026, 12, 1), date(2026, 12, 31))),
        ("monthly", date(2024, 3, 1), ("2024-02", date(2024, 2, 1), date(2024, 2, 29))),
        ("monthly", date(2026, 11, 2), None),
    ],
)
def test_due_windows(
    frequency: Frequency, day: date, expected: tuple[str, date, date] | None
) -> None:
    window = due_window(frequency, day)
    assert (None if window is None else (window.key, window.start, window.end)) == expected


@pytest.mark.parametrize(
    ("minor_units", "currency", "shown"),
    [
        (85_000_000, "INR", "INR 850,000.00"),
        (-150_005, "USD", "USD -1,500.05"),
        (1500, "JPY", "JPY 1,500"),
        (1_234_567, "KWD", "KWD 1,234.567"),
        (0, "EUR", "EUR 0.00"),
    ],
)
def test_money_uses_the_currency_exponent(minor_units: int, currency: str, shown: str) -> None:
    assert money(minor_units, currency) == shown


def test_micros_round_half_to_even_into_minor_units() -> None:
    assert micros_as_minor(1_234_565_000, "INR") == 123_456
    assert micros_as_minor(1_234_575_000, "INR") == 123_458
    assert micros_as_minor(1_500_000_000, "JPY") == 1_500


def test_money_cells_must_be_whole_minor_units() -> None:
    assert minor(Decimal(12)) == 12
    with pytest.raises(TypeError):
        minor(12.0)
    with pytest.raises(ValueError, match="whole number"):
        minor(Decimal("12.5"))
