"""Which column of each catalogue report holds the currency of each of its money columns,
and in what unit the money is kept: integer minor units (``*_minor``), Google Ads micros
(``*_micros``) or already major units (a ratio such as cost per booking). The one place
that says it: exports for people (CSV, XLSX, the snapshot PDF's tables) read it, and a
test holds it to the views, so that a new money column without an entry here fails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Unit = Literal["minor", "micros", "major"]
MONEY_SUFFIXES = ("_minor", "_micros")


@dataclass(frozen=True)
class MoneyColumn:
    column: str  # as the view names it
    currency: str  # the view's column holding its ISO 4217 code, row by row
    unit: Unit = "minor"

    @property
    def name(self) -> str:
        """Its name for people: ``billed_minor`` -> ``billed``, ``cost_micros`` -> ``cost``."""
        for suffix in MONEY_SUFFIXES:
            if self.column.endswith(suffix):
                return self.column.removesuffix(suffix)
        return self.column


def _minor(currency: str, *columns: str) -> tuple[MoneyColumn, ...]:
    return tuple(MoneyColumn(f"{column}_minor", currency) for column in columns)


MONEY_COLUMNS: dict[str, tuple[MoneyColumn, ...]] = {
    "rpt_patient_volume": (),
    "rpt_referral_source": _minor("currency", "revenue", "trailing_30d_revenue"),
    "rpt_waiting_time": (),
    "rpt_procedure_trends": _minor("currency", "revenue", "revenue_last_year"),
    "rpt_revenue_breakdown": _minor(
        "currency", "billed", "invoiced", "credited", "prepaid", "paid", "outstanding"
    ),
    "rpt_google_ads": (
        MoneyColumn("cost_micros", "ads_currency", "micros"),
        MoneyColumn("cost_per_booking", "ads_currency", "major"),
        MoneyColumn("paid_revenue_minor", "revenue_currency"),
    ),
    "rpt_payments_by_mode": _minor("currency", "amount", "deposit"),
    "rpt_receivables_aging": _minor(
        "currency",
        "outstanding",
        "not_due",
        "days_0_30",
        "days_31_60",
        "days_61_90",
        "days_over_90",
    ),
    "rpt_leakage": _minor(
        "currency",
        "unbilled",
        "underpaid",
        "unpaid_invoice",
        "refund",
        "credit_note",
        "forfeiture",
    ),
    "rpt_settlement": _minor(
        "currency",
        "amount",
        "fee",
        "tax",
        "payment_gross",
        "refund_deducted",
        "dispute_deducted",
        "adjustment_deducted",
        "settled",
        "unmatched_net",
        "difference",
    ),
    "rpt_branch_variance": _minor(
        "currency",
        "recorded",
        "captured",
        "variance",
        "fee",
        "settled_net",
        "awaiting_settlement_net",
    ),
    "rpt_utilization": (),
    "rpt_no_show": (),
    "rpt_nps": (),
}


class UnknownMoneyColumn(ValueError):
    pass


def money_columns(view: str, columns: Sequence[str]) -> dict[str, MoneyColumn]:
    """The money columns among ``columns`` of ``view``, by the view's column name. A
    ``*_minor`` or ``*_micros`` column with no entry is refused: shown as it is, it would
    read as a hundred (or a million) times the amount."""
    known = {money.column: money for money in MONEY_COLUMNS.get(view, ())}
    unknown = [c for c in columns if c.endswith(MONEY_SUFFIXES) and c not in known]
    if unknown:
        raise UnknownMoneyColumn(
            f"{view}: no currency column is known for {', '.join(unknown)} "
            "(add it to mymedic/reports/money_columns.py)"
        )
    return {column: known[column] for column in columns if column in known}
