"""The few numbers a manager reads first, per report: sums of the report's rows for the
window (money per currency, in integer minor units until it is formatted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from mymedic.ports import Row
from mymedic.reports.snapshot.money import micros_as_minor, minor, money


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str


def key_figures(report: str, rows: Sequence[Row]) -> list[KeyFigure]:
    return _FIGURES[report](rows)


def latest(rows: Sequence[Row], column: str) -> list[Row]:
    """The rows of the latest ``column`` (a balance as of a date must not be summed over
    dates)."""
    if not rows:
        return []
    last = max(row[column] for row in rows)
    return [row for row in rows if row[column] == last]


def _count(rows: Sequence[Row], column: str, label: str) -> KeyFigure:
    return KeyFigure(label, f"{sum(int(row[column] or 0) for row in rows):,}")


def _money(
    rows: Sequence[Row], column: str, label: str, currency: str = "currency"
) -> list[KeyFigure]:
    totals: dict[str, int] = {}
    for row in rows:
        code = row[currency]
        if code:
            totals[code] = totals.get(code, 0) + minor(row[column])
    if not totals:
        return [KeyFigure(label, "none")]
    return [KeyFigure(label, money(total, code)) for code, total in sorted(totals.items())]


def _weighted(rows: Sequence[Row], column: str, weight: str) -> float | None:
    total = sum(int(row[weight] or 0) for row in rows)
    if total == 0:
        return None
    return sum(float(row[column] or 0) * int(row[weight] or 0) for row in rows) / total


def _patient_volume(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        _count(rows, "scans", "Scans"),
        _count(rows, "new_patients", "New patients"),
        _count(rows, "no_shows", "No-shows"),
        _count(rows, "cancelled", "Cancellations"),
    ]


def _referral_source(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        _count(rows, "referrals", "Referrals"),
        _count(rows, "scans", "Scans of referred patients"),
        *_money(rows, "revenue_minor", "Revenue from referrals"),
    ]


def _waiting_time(rows: Sequence[Row]) -> list[KeyFigure]:
    mean = _weighted(rows, "mean_lead_hours", "appointments")
    same_day = _weighted(rows, "same_day_share", "appointments")
    worst = max((float(row["p90_lead_hours"]) for row in rows), default=None)
    return [
        _count(rows, "appointments", "Appointments"),
        KeyFigure("Mean booking lead", _hours(mean)),
        KeyFigure("Longest p90 lead (one branch, modality, week)", _hours(worst)),
        KeyFigure("Booked less than 24 h ahead", _percent(same_day)),
    ]


def _procedure_trends(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        _count(rows, "scans", "Scans"),
        _count(rows, "scans_last_year", "Scans, same months last year"),
        *_money(rows, "revenue_minor", "Revenue"),
    ]


def _revenue_breakdown(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        _count(rows, "appointments", "Appointments"),
        *_money(rows, "billed_minor", "Billed"),
        *_money(rows, "paid_minor", "Paid"),
        *_money(rows, "outstanding_minor", "Outstanding"),
    ]


def _google_ads(rows: Sequence[Row]) -> list[KeyFigure]:
    costs = [
        {"ads_currency": row["ads_currency"], "cost": micros_as_minor(row["cost_micros"] or 0, c)}
        for row in rows
        if (c := row["ads_currency"])
    ]
    return [
        *_money(costs, "cost", "Ad cost", currency="ads_currency"),
        _count(rows, "clicks", "Clicks"),
        _count(rows, "bookings", "Bookings"),
        *_money(rows, "paid_revenue_minor", "Paid revenue", currency="revenue_currency"),
    ]


def _payments_by_mode(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        _count(rows, "payments", "Payments"),
        *_money(rows, "amount_minor", "Collected"),
        *_money(rows, "deposit_minor", "Of which deposits"),
    ]


def _receivables_aging(rows: Sequence[Row]) -> list[KeyFigure]:
    current = latest(rows, "as_of_date")
    as_of = f" on {_day(current[0]['as_of_date'])}" if current else ""
    return [
        _count(current, "invoices", f"Open invoices{as_of}"),
        *_money(current, "outstanding_minor", f"Outstanding{as_of}"),
        *_money(current, "days_over_90_minor", "Over 90 days past due"),
    ]


def _leakage(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_money(rows, "unbilled_minor", "Unbilled"),
        *_money(rows, "underpaid_minor", "Underpaid"),
        *_money(rows, "unpaid_invoice_minor", "Unpaid invoices"),
        *_money(rows, "refund_minor", "Refunded"),
    ]


def _settlement(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        KeyFigure("Settlements", f"{len(rows):,}"),
        *_money(rows, "amount_minor", "Paid to the bank"),
        *_money(rows, "fee_minor", "Gateway fees"),
        *_money(rows, "difference_minor", "Unexplained difference"),
    ]


def _branch_variance(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_money(rows, "recorded_minor", "Recorded card/UPI"),
        *_money(rows, "captured_minor", "Captured by gateways"),
        *_money(rows, "variance_minor", "Variance"),
    ]


def _hours(value: float | None) -> str:
    return "none" if value is None else f"{value:,.1f} h"


def _percent(value: float | None) -> str:
    return "none" if value is None else f"{value:.0%}"


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


_FIGURES: dict[str, Callable[[Sequence[Row]], list[KeyFigure]]] = {
    "patient-volume": _patient_volume,
    "referral-source": _referral_source,
    "waiting-time": _waiting_time,
    "procedure-trends": _procedure_trends,
    "revenue-breakdown": _revenue_breakdown,
    "google-ads": _google_ads,
    "payments-by-mode": _payments_by_mode,
    "receivables-aging": _receivables_aging,
    "leakage": _leakage,
    "settlement": _settlement,
    "branch-variance": _branch_variance,
}
