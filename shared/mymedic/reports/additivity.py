"""Which columns of each catalogue report view may be added up across its rows, and what
makes one of its rows (its grain). The one place that says it: the dashboard model
refuses a chart that adds, averages or takes the extreme of anything else across rows,
and a test holds this registry to the views, so that a new measure without an entry
here fails.

- **additive**: counts of rows and money (per currency): the sum over any rows is the
  figure of those rows together (12 scans and 3 scans are 15 scans).
- **semi-additive**: balances as of a date: they add up across rows of one value of
  ``per`` (every branch's outstanding on one month end), never across those values.
- **non-additive**: distinct counts, medians, percentiles, means, rates and shares: the
  sum (or average, or maximum) of two rows' values is not the value of the two rows
  together (a patient new in two modalities is one new patient). Shown only at the
  view's own grain, or computed at their own grain by the warehouse: the report's
  headline figures (bigquery/headlines/, ``reports.headlines``).

Every other column is a dimension or an attribute of one (a clinician's name).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ViewMeasures:
    # What makes a row unique within a tenant (tenant_id itself left out: a dashboard
    # page always shows one tenant).
    grain: tuple[str, ...]
    additive: frozenset[str]
    # column -> why it does not add up (what it is)
    non_additive: dict[str, str] = field(default_factory=dict)
    # column -> the columns a chart must group by to add it up (as-of dates)
    semi_additive: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def measures(self) -> set[str]:
        return set(self.additive) | set(self.non_additive) | set(self.semi_additive)


def _columns(*names: str) -> frozenset[str]:
    return frozenset(names)


DISTINCT = "a distinct count"
MEDIAN = "a median"
PERCENTILE = "a percentile"
MEAN = "a mean"
RATE = "a rate"
SHARE = "a share"
TRAILING = "a trailing 30-day sum (windows of two weeks overlap)"

MEASURES: dict[str, ViewMeasures] = {
    "rpt_patient_volume": ViewMeasures(
        grain=("branch_id", "modality", "month"),
        additive=_columns("scans", "cancelled", "no_shows", "still_booked"),
        non_additive={
            "patients": DISTINCT,
            "new_patients": DISTINCT,
            "returning_patients": DISTINCT,
        },
    ),
    "rpt_referral_source": ViewMeasures(
        grain=("referrer_type", "referrer_id", "currency", "week"),
        additive=_columns("referrals", "scans", "revenue_minor"),
        non_additive={
            "patients_referred": DISTINCT,
            "new_patients": DISTINCT,
            "trailing_30d_scans": TRAILING,
            "trailing_30d_new_patients": TRAILING,
            "trailing_30d_revenue_minor": TRAILING,
        },
    ),
    "rpt_waiting_time": ViewMeasures(
        grain=("branch_id", "modality", "week"),
        additive=_columns("appointments", "no_shows"),
        non_additive={
            "median_lead_hours": MEDIAN,
            "p90_lead_hours": PERCENTILE,
            "mean_lead_hours": MEAN,
            "same_day_share": SHARE,
            "median_no_show_lead_hours": MEDIAN,
        },
    ),
    "rpt_procedure_trends": ViewMeasures(
        grain=("branch_id", "modality", "procedure_code", "currency", "month"),
        additive=_columns("scans", "revenue_minor", "scans_last_year", "revenue_last_year_minor"),
        non_additive={"scans_yoy_change": RATE, "revenue_yoy_change": RATE},
    ),
    "rpt_revenue_breakdown": ViewMeasures(
        # An appointment is one row's per currency it has money in (in practice one).
        grain=("branch_id", "month", "modality", "clinician_id", "payer_type", "currency"),
        additive=_columns(
            "appointments",
            "billed_minor",
            "invoiced_minor",
            "credited_minor",
            "prepaid_minor",
            "paid_minor",
            "outstanding_minor",
        ),
        non_additive={"collection_rate": RATE},
    ),
    "rpt_google_ads": ViewMeasures(
        grain=(
            "day",
            "campaign_id",
            "ad_group_id",
            "keyword_id",
            "ads_currency",
            "revenue_currency",
        ),
        additive=_columns(
            "cost_micros",
            "cost",
            "clicks",
            "impressions",
            "bookings",
            "cancelled_bookings",
            "paid_revenue_minor",
        ),
        non_additive={"roas": RATE, "cost_per_booking": RATE},
    ),
    "rpt_payments_by_mode": ViewMeasures(
        grain=("branch_id", "paid_date", "currency", "mode"),
        additive=_columns("payments", "amount_minor", "deposits", "deposit_minor"),
    ),
    "rpt_receivables_aging": ViewMeasures(
        grain=("branch_id", "currency", "as_of_date"),
        additive=frozenset(),
        semi_additive=dict.fromkeys(
            (
                "invoices",
                "outstanding_minor",
                "not_due_minor",
                "days_0_30_minor",
                "days_31_60_minor",
                "days_61_90_minor",
                "days_over_90_minor",
            ),
            ("as_of_date",),
        ),
    ),
    "rpt_leakage": ViewMeasures(
        grain=("branch_id", "currency", "month"),
        additive=_columns(
            "unbilled_appointments",
            "unbilled_minor",
            "underpaid_appointments",
            "underpaid_minor",
            "unpaid_invoices",
            "unpaid_invoice_minor",
            "refunds",
            "refund_minor",
            "credit_notes",
            "credit_note_minor",
            "forfeitures",
            "forfeiture_minor",
        ),
    ),
    "rpt_settlement": ViewMeasures(
        grain=("provider", "settlement_ref"),
        additive=_columns(
            "payments",
            "payment_gross_minor",
            "refunds",
            "refund_deducted_minor",
            "disputes",
            "dispute_deducted_minor",
            "adjustments",
            "adjustment_deducted_minor",
            "fee_minor",
            "tax_minor",
            "items",
            "settled_minor",
            "unmatched_items",
            "unmatched_net_minor",
            "amount_minor",
            "difference_minor",
        ),
    ),
    "rpt_branch_variance": ViewMeasures(
        grain=("branch_id", "local_date", "currency"),
        additive=_columns(
            "recorded_payments",
            "recorded_minor",
            "captures",
            "captured_minor",
            "variance_minor",
            "fee_minor",
            "settled_captures",
            "settled_net_minor",
            "awaiting_settlement_captures",
            "awaiting_settlement_net_minor",
        ),
    ),
    "rpt_utilization": ViewMeasures(
        grain=("branch_id", "subject", "subject_id", "day"),
        additive=frozenset(),
        # A clinician's, a room's and an equipment's minutes are different things (an
        # equipment's are its rooms' again): they add up within one kind of subject.
        semi_additive=dict.fromkeys(
            ("available_minutes", "booked_minutes", "working_minutes", "blocked_minutes"),
            ("subject",),
        ),
        non_additive={"utilization": RATE},
    ),
    "rpt_no_show": ViewMeasures(
        grain=("branch_id", "day"),
        additive=_columns("appointments", "no_shows"),
        non_additive={"no_show_rate": RATE},
    ),
    "rpt_nps": ViewMeasures(
        grain=("branch_id", "day"),
        additive=_columns("responses", "promoters", "passives", "detractors"),
        non_additive={"nps": "a score (100 * (promoters - detractors) / responses)"},
    ),
}


class UnknownView(KeyError):
    pass


def view_measures(view: str) -> ViewMeasures:
    try:
        return MEASURES[view]
    except KeyError:
        raise UnknownView(
            f"{view}: no grain and additive columns are known for it "
            "(add it to mymedic/reports/additivity.py)"
        ) from None
