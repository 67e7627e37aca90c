"""The reports a user can ask for by name: the view behind each, the date column its
range filters, and how a date range is checked and aligned to the report's grain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from mymedic.adapters.sql_catalog import materialized_table
from mymedic.ports import DateRange, Row, Warehouse
from mymedic.reports import materialize

Grain = Literal["day", "week", "month"]
MAX_RANGE_YEARS = 5


@dataclass(frozen=True)
class ReportSpec:
    name: str
    view: str
    date_column: str
    grain: Grain
    title: str


REPORTS: tuple[ReportSpec, ...] = (
    ReportSpec(
        "patient-volume",
        "rpt_patient_volume",
        "month",
        "month",
        "1. Patient volume by branch, modality and month; new vs returning",
    ),
    ReportSpec(
        "referral-source",
        "rpt_referral_source",
        "week",
        "week",
        "2. Referral source: referrals, scans and 30-day trailing revenue per referrer and week",
    ),
    ReportSpec(
        "waiting-time",
        "rpt_waiting_time",
        "week",
        "week",
        "3. Waiting time: booking lead time of visits (no-shows apart), by branch, modality, week",
    ),
    ReportSpec(
        "procedure-trends",
        "rpt_procedure_trends",
        "month",
        "month",
        "4. Procedure trends: monthly scans and revenue, same month last year",
    ),
    ReportSpec(
        "revenue-breakdown",
        "rpt_revenue_breakdown",
        "month",
        "month",
        "5. Revenue by modality, clinician, location and payer: billed vs paid",
    ),
    ReportSpec(
        "google-ads",
        "rpt_google_ads",
        "day",
        "day",
        "9. Google Ads: cost, clicks, bookings, paid revenue, ROAS, cost per booking",
    ),
    ReportSpec(
        "payments-by-mode",
        "rpt_payments_by_mode",
        "paid_date",
        "day",
        "Payments by branch, day and mode (UPI, card, cash)",
    ),
    ReportSpec(
        "receivables-aging",
        "rpt_receivables_aging",
        "as_of_date",
        "day",
        "Receivables aging: 0-30, 31-60, 61-90, 90+ days past due",
    ),
    ReportSpec(
        "leakage",
        "rpt_leakage",
        "month",
        "month",
        "Leakage: unbilled, underpaid, unpaid invoices, refunds and forfeitures",
    ),
    ReportSpec(
        "settlement",
        "rpt_settlement",
        "settled_date",
        "day",
        "Settlements: paid to the bank vs the lines they pay out",
    ),
    ReportSpec(
        "branch-variance",
        "rpt_branch_variance",
        "local_date",
        "day",
        "Branch variance: recorded card/UPI payments vs gateway captures",
    ),
    ReportSpec(
        "utilization",
        "rpt_utilization",
        "day",
        "day",
        "Utilization: booked vs available minutes per clinician, room, equipment and day",
    ),
    ReportSpec(
        "no-shows",
        "rpt_no_show",
        "day",
        "day",
        "No-shows: appointments and no-shows per branch and day",
    ),
    ReportSpec(
        "nps",
        "rpt_nps",
        "day",
        "day",
        "NPS: responses, promoters, detractors and score per branch and day",
    ),
)

_BY_NAME = {spec.name: spec for spec in REPORTS} | {spec.view: spec for spec in REPORTS}


class UnknownReport(KeyError):
    pass


class BadRange(ValueError):
    pass


def report(name: str) -> ReportSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(spec.name for spec in REPORTS)
        raise UnknownReport(f"no report {name!r}; known: {known}") from None


def date_range(spec: ReportSpec, start: date, end: date) -> DateRange:
    """The report's date column between ``start`` and ``end``, the first day aligned to
    the report's grain (a month report from 15 March includes March)."""
    if end < start:
        raise BadRange(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    if end >= _years_after(start, MAX_RANGE_YEARS):
        raise BadRange(
            f"{start.isoformat()} to {end.isoformat()} is longer than {MAX_RANGE_YEARS} years: "
            "ask for a shorter range"
        )
    return DateRange(spec.date_column, _aligned(start, spec.grain), end)


def run(
    warehouse: Warehouse,
    spec: ReportSpec,
    tenant: str | None,
    start: date | None = None,
    end: date | None = None,
    *,
    now: datetime | None = None,
) -> tuple[list[str], list[Row]]:
    """The report's columns and rows for one tenant (every tenant: None) and a range
    (both ends or neither). No rows still gives the columns, so an unknown tenant or an
    empty range reads as an empty table. A materialized report is read from its table,
    refreshed first where stale (``materialize``), so it is never behind the facts."""
    if (start is None) != (end is None):
        raise BadRange("give both --from and --to, or neither")
    between = date_range(spec, start, end) if start is not None and end is not None else None
    columns = warehouse.columns(spec.view)
    filters = {"tenant_id": tenant} if tenant is not None else None
    if materialize.is_materialized(spec.view):
        current = now or datetime.now(UTC)
        known = materialize.tenants(warehouse)
        # An unknown tenant has no rows to refresh: it reads as an empty table.
        wanted = known if tenant is None else [t for t in known if t == tenant]
        for each in wanted:
            materialize.ensure_fresh(warehouse, [spec.view], each, current)
    return columns, warehouse.query(source(spec), filters, between=between)


def source(spec: ReportSpec) -> str:
    """What a report is read from: its materialized table, or else its view."""
    return materialized_table(spec.view) if materialize.is_materialized(spec.view) else spec.view


def _aligned(day: date, grain: Grain) -> date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28) + timedelta(days=1)
