"""A snapshot's content: per chosen report, its rows for the window (of the chosen
branches), key figures (its headline figures, computed by the warehouse for the window
and those branches) and chart; rendered once, then laid out as PDF and e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mymedic.ports import Row, Warehouse
from mymedic.reports.catalog import ReportSpec, report, run
from mymedic.reports.headlines import has_headline, headline
from mymedic.reports.snapshot.charts import CHARTS, chart_png
from mymedic.reports.snapshot.figures import KeyFigure, key_figures
from mymedic.reports.snapshot.window import Window

EVERY_BRANCH = "*"


@dataclass(frozen=True)
class ReportSection:
    spec: ReportSpec
    columns: list[str]
    rows: list[Row]
    figures: list[KeyFigure]
    chart: bytes  # PNG
    # False: the report has no branch column, so a branch-limited schedule sees it whole.
    by_branch: bool


@dataclass(frozen=True)
class Snapshot:
    tenant: str
    window: Window
    branches: tuple[str, ...]
    sections: list[ReportSection]

    @property
    def scope(self) -> str:
        if self.branches == (EVERY_BRANCH,):
            return "all branches"
        return "branches " + ", ".join(self.branches)


def collect(
    warehouse: Warehouse,
    tenant: str,
    report_names: Sequence[str],
    window: Window,
    branches: Sequence[str] = (EVERY_BRANCH,),
) -> Snapshot:
    """The reports' rows from the window's first day (aligned to each report's grain: a
    monthly report shows the months the window touches) to its last, and their headline
    figures over the same rows."""
    sections = []
    for name in report_names:
        spec = report(name)
        columns, rows = run(warehouse, spec, tenant, window.start, window.end)
        by_branch = "branch_id" in columns
        scope: Sequence[str] | None = None
        if by_branch and EVERY_BRANCH not in branches:
            rows = [row for row in rows if row["branch_id"] in branches]
            scope = branches
        figures: list[KeyFigure] = []
        charted = rows
        if has_headline(spec):
            totals = headline(warehouse, spec, tenant, window.start, window.end, branches=scope)
            figures = key_figures(spec.name, totals)
            chart = CHARTS[spec.name]
            if chart.headline:
                charted = headline(
                    warehouse,
                    spec,
                    tenant,
                    window.start,
                    window.end,
                    branches=scope,
                    by=[chart.by],
                )
        sections.append(
            ReportSection(spec, columns, rows, figures, chart_png(spec.name, charted), by_branch)
        )
    return Snapshot(tenant, window, tuple(branches), sections)
