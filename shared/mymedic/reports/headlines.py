"""A report's headline figures for a range: its totals computed by the warehouse at their
own grain (bigquery/headlines/<view>.sql), never added up from the report's rows. A
distinct count is counted once over the whole range, a median is taken over every row
of it, a rate is the ratio of the sums; money stays per currency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from mymedic.adapters.sql_catalog import headline_defs
from mymedic.ports import Row, Warehouse
from mymedic.reports.catalog import ReportSpec, date_range


def has_headline(spec: ReportSpec) -> bool:
    return spec.view in headline_defs()


def headline(
    warehouse: Warehouse,
    spec: ReportSpec,
    tenant: str,
    start: date,
    end: date,
    *,
    branches: Sequence[str] | None = None,
    by: Sequence[str] = (),
) -> list[Row]:
    """The report's headline rows for one tenant, ``start`` to ``end`` aligned to the
    report's grain as ``catalog.run`` aligns it (a month report from 15 March counts
    March), so that the figures total exactly the rows the report shows; ``branches``
    None is every branch."""
    between = date_range(spec, start, end)
    return warehouse.headline(
        spec.view, tenant, between.start, between.end, branches=branches, by=by
    )
