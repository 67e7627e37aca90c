"""One bar chart per report (matplotlib's Agg canvas, no pyplot state): the same PNG
goes inline into the e-mail and into the PDF. Money bars are per currency."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mymedic.ports import Row
from mymedic.reports.snapshot.figures import latest
from mymedic.reports.snapshot.money import major_float, minor

WIDTH_INCHES, HEIGHT_INCHES, DPI = 9.0, 3.2, 150


@dataclass(frozen=True)
class ChartSpec:
    """A bar per value of ``by``: the sum of an additive ``value`` over the report's rows,
    or (``headline``) the value the warehouse computed for that bar at its own grain
    (the report's headline grouped by ``by``: a median is never averaged here)."""

    title: str
    by: str
    value: str
    money: bool = False
    headline: bool = False
    latest: str | None = None  # only the rows of the latest value of this column


CHARTS: dict[str, ChartSpec] = {
    "patient-volume": ChartSpec("Scans by month", "month", "scans"),
    "referral-source": ChartSpec("Scans by referrer type", "referrer_type", "scans"),
    "waiting-time": ChartSpec(
        "Median booking lead (hours) by modality, all visits of the window",
        "modality",
        "median_lead_hours",
        headline=True,
    ),
    "procedure-trends": ChartSpec("Scans by modality", "modality", "scans"),
    "revenue-breakdown": ChartSpec("Paid by branch", "branch_id", "paid_minor", money=True),
    "google-ads": ChartSpec("Clicks by day", "day", "clicks"),
    "payments-by-mode": ChartSpec("Collected by mode", "mode", "amount_minor", money=True),
    "receivables-aging": ChartSpec(
        "Outstanding by branch", "branch_id", "outstanding_minor", money=True, latest="as_of_date"
    ),
    "leakage": ChartSpec("Unbilled by branch", "branch_id", "unbilled_minor", money=True),
    "settlement": ChartSpec("Paid to the bank by provider", "provider", "amount_minor", money=True),
    "branch-variance": ChartSpec(
        "Recorded minus captured by branch", "branch_id", "variance_minor", money=True
    ),
}


def chart_png(report: str, rows: Sequence[Row]) -> bytes:
    """The report's chart from ``rows``: the report's rows, or for a chart whose spec is
    ``headline``, the headline's rows grouped by the spec's ``by``."""
    spec = CHARTS[report]
    if spec.latest is not None:
        rows = latest(rows, spec.latest)
    labels, heights, unit = _bars(spec, rows)
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(spec.title, fontsize=11, color="black")
    if labels:
        axes.bar(range(len(labels)), heights, color="#2b6cb0")
        axes.set_xticks(
            range(len(labels)), labels, fontsize=8, rotation=30 if len(labels) > 8 else 0
        )
        axes.set_ylabel(unit, fontsize=9)
        axes.axhline(0, color="black", linewidth=0.6)
    else:
        axes.text(0.5, 0.5, "No rows in this window", ha="center", va="center", fontsize=11)
        axes.set_axis_off()
    axes.tick_params(colors="black", labelsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No "Software" entry: the same rows give the same bytes across matplotlib versions.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _bars(spec: ChartSpec, rows: Sequence[Row]) -> tuple[list[str], list[float], str]:
    sums: dict[tuple[str, str], float] = {}
    minors: dict[tuple[str, str], int] = {}
    for row in rows:
        currency = str(row.get("currency") or "") if spec.money else ""
        key = (_label(row[spec.by]), currency)
        if spec.headline and (key in sums or key in minors):
            raise ValueError(f"{spec.title}: the headline has two rows for {key}")
        if spec.money:
            minors[key] = minors.get(key, 0) + minor(row[spec.value])
        else:
            sums[key] = sums.get(key, 0.0) + float(row[spec.value] or 0)
    if spec.money:
        currencies = sorted({currency for _, currency in minors})
        keys = sorted(minors)
        heights = [major_float(minors[key], key[1]) for key in keys]
        unit = currencies[0] if len(currencies) == 1 else "major units"
        return [_with_currency(key, len(currencies)) for key in keys], heights, unit
    keys = sorted(sums)
    return [k for k, _ in keys], [sums[k] for k in keys], ""


def _with_currency(key: tuple[str, str], currencies: int) -> str:
    return f"{key[0]} ({key[1]})" if currencies > 1 else key[0]


def _label(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return "(none)" if value is None else str(value)
