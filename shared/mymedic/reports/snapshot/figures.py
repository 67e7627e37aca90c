"""The few numbers a manager reads first, per report: its headline figures for the
window, computed by the warehouse at their own grain (``reports.headlines``), never
added up from the report's rows here: a patient new in two modalities is one new
patient, a median is the median of every visit of the window, a rate the ratio of the
window's sums. Money is per currency (in integer minor units until it is formatted); a
count of a report kept per currency is shown per currency when there are several."""

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


def key_figures(report: str, headline: Sequence[Row]) -> list[KeyFigure]:
    """The figures of ``report`` from its headline rows (one, or one per currency); a
    report without headline figures has none."""
    figures = _FIGURES.get(report)
    return figures(headline) if figures else []


def latest(rows: Sequence[Row], column: str) -> list[Row]:
    """The rows of the latest ``column`` (a balance as of a date must not be summed over
    dates)."""
    if not rows:
        return []
    last = max(row[column] for row in rows)
    return [row for row in rows if row[column] == last]


def _shown(
    rows: Sequence[Row], column: str, label: str, text: Callable[[Any], str]
) -> list[KeyFigure]:
    """The headline's ``column``: one figure, or one per currency when the headline has
    several currencies (a count kept per currency is never added across them)."""
    if not rows:
        return [KeyFigure(label, text(None))]
    if len(rows) == 1:
        return [KeyFigure(label, text(rows[0][column]))]
    return [
        KeyFigure(f"{label} ({row.get('currency') or 'no currency'})", text(row[column]))
        for row in rows
    ]


def _count(rows: Sequence[Row], column: str, label: str) -> list[KeyFigure]:
    return _shown(rows, column, label, lambda value: f"{int(value or 0):,}")


def _hours(rows: Sequence[Row], column: str, label: str) -> list[KeyFigure]:
    return _shown(rows, column, label, lambda v: "none" if v is None else f"{float(v):,.1f} h")


def _percent(rows: Sequence[Row], column: str, label: str) -> list[KeyFigure]:
    return _shown(rows, column, label, lambda v: "none" if v is None else f"{float(v):.0%}")


def _change(rows: Sequence[Row], column: str, label: str) -> list[KeyFigure]:
    return _shown(rows, column, label, lambda v: "none" if v is None else f"{float(v):+.0%}")


def _money(
    rows: Sequence[Row], column: str, label: str, *, micros: bool = False
) -> list[KeyFigure]:
    shown = []
    for row in rows:
        code = row["currency"]
        if not code:
            continue
        amount = micros_as_minor(row[column] or 0, code) if micros else minor(row[column])
        shown.append(KeyFigure(label, money(amount, code)))
    return shown or [KeyFigure(label, "none")]


def _patient_volume(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_count(rows, "scans", "Scans"),
        *_count(rows, "patients", "Patients scanned (each once)"),
        *_count(rows, "new_patients", "New patients"),
        *_count(rows, "no_shows", "No-shows"),
        *_count(rows, "cancelled", "Cancellations"),
    ]


def _referral_source(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_count(rows, "referrals", "Referrals"),
        *_count(rows, "patients_referred", "Patients referred (each once)"),
        *_count(rows, "scans", "Scans of referred patients"),
        *_count(rows, "new_patients", "New patients from referrals"),
        *_money(rows, "revenue_minor", "Revenue from referrals"),
    ]


def _waiting_time(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_count(rows, "appointments", "Visits (arrived or completed)"),
        *_hours(rows, "median_lead_hours", "Median booking lead (all visits in the window)"),
        *_hours(rows, "p90_lead_hours", "90th percentile booking lead (all visits in the window)"),
        *_hours(rows, "mean_lead_hours", "Mean booking lead"),
        *_percent(rows, "same_day_share", "Visits booked less than 24 h ahead"),
        *_count(rows, "no_shows", "No-shows"),
    ]


def _procedure_trends(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_count(rows, "scans", "Scans"),
        *_count(rows, "scans_last_year", "Scans, same months last year"),
        *_change(rows, "scans_yoy_change", "Scans, change on last year"),
        *_money(rows, "revenue_minor", "Revenue"),
    ]


def _revenue_breakdown(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_count(rows, "appointments", "Appointments"),
        *_money(rows, "billed_minor", "Billed"),
        *_money(rows, "paid_minor", "Paid"),
        *_money(rows, "outstanding_minor", "Outstanding"),
        *_percent(rows, "collection_rate", "Collected of billed (all visits in the window)"),
    ]


def _google_ads(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_money(rows, "cost_micros", "Ad cost", micros=True),
        *_count(rows, "clicks", "Clicks"),
        *_count(rows, "bookings", "Bookings"),
        *_money(rows, "paid_revenue_minor", "Paid revenue"),
    ]


def _payments_by_mode(rows: Sequence[Row]) -> list[KeyFigure]:
    return [
        *_count(rows, "payments", "Payments"),
        *_money(rows, "amount_minor", "Collected"),
        *_money(rows, "deposit_minor", "Of which deposits"),
    ]


def _receivables_aging(rows: Sequence[Row]) -> list[KeyFigure]:
    as_of = f" on {_day(rows[0]['as_of_date'])}" if rows else ""
    return [
        *_count(rows, "invoices", f"Open invoices{as_of}"),
        *_money(rows, "outstanding_minor", f"Outstanding{as_of}"),
        *_money(rows, "days_over_90_minor", "Over 90 days past due"),
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
        *_count(rows, "settlements", "Settlements"),
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
