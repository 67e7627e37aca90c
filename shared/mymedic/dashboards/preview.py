"""The dashboards as static HTML from the warehouse, for a user without GCP: a page per
dashboard page and tenant (``<out>/<dashboard>/<tenant>/<page>.html``), each chart drawn
for every branch, and ``<out>/index.html`` linking them; or one dashboard of one tenant
as a single document (``render_dashboard``), as ``mymedic serve`` answers it. Nothing is
fetched at view time.

A chart over a view aggregates the view's rows; a chart over a headline data source shows
the report's headline figures, computed by the warehouse (``Warehouse.headline``) for
the tenant, each branch (the branch select's variants) and the range the date control
states: every date the report has for the tenant."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from mymedic.dashboards.aggregate import aggregate, key_text
from mymedic.dashboards.html import (
    Link,
    PageFrame,
    Section,
    dashboard_html,
    figure_html,
    index_html,
    page_html,
    scorecard_html,
    table_html,
)
from mymedic.dashboards.model import Chart, Dashboard, DataSource, Page, load_dashboards
from mymedic.dashboards.svg import chart_svg
from mymedic.ports import Row, Warehouse

Rows = dict[str, dict[str, list[Row]]]  # view -> tenant -> rows


def write_preview(
    warehouse: Warehouse,
    out_dir: Path,
    tenants: Sequence[str] | None = None,
    dashboards: Sequence[Dashboard] | None = None,
) -> Path:
    """Write the preview under ``out_dir`` (every tenant with data, or ``tenants``) and
    return its index.html."""
    chosen = tuple(dashboards) if dashboards is not None else load_dashboards()
    views = sorted({source.view for d in chosen for source in d.data_sources.values()})
    data = _rows(warehouse, views, tenants)
    branched = {view for view in views if "branch_id" in warehouse.columns(view)}
    plan = {d.name: list(tenants) if tenants else _tenants_of(d, data) for d in chosen}
    site = _Site(chosen, plan, data, branched, warehouse)
    out_dir.mkdir(parents=True, exist_ok=True)
    for dashboard in chosen:
        shutil.rmtree(out_dir / dashboard.name, ignore_errors=True)
        for tenant in plan[dashboard.name]:
            folder = out_dir / dashboard.name / tenant_folder(tenant)
            folder.mkdir(parents=True)
            for page in dashboard.pages:
                html = site.page(dashboard, page, tenant)
                (folder / f"{page.id}.html").write_text(html, encoding="utf-8")
    index = out_dir / "index.html"
    rows = [
        (
            Link(d.title, ""),
            [Link(t, f"{d.name}/{tenant_folder(t)}/{d.pages[0].id}.html") for t in plan[d.name]],
        )
        for d in chosen
    ]
    index.write_text(index_html("MyMedic dashboards (local preview)", rows), encoding="utf-8")
    return index


def render_dashboard(
    warehouse: Warehouse,
    dashboard: Dashboard,
    tenant: str,
    dashboards: Sequence[Dashboard] | None = None,
) -> str:
    """Every page of ``dashboard`` for ``tenant`` in one HTML document: page ``p`` is
    the section ``#p``; the other ``dashboards`` are linked as ``<name>?tenant=T``, a
    sibling of the document's own URL (``/dashboards/<name>``)."""
    others = tuple(dashboards) if dashboards is not None else load_dashboards()
    views = sorted({source.view for source in dashboard.data_sources.values()})
    data = _rows(warehouse, views, [tenant])
    branched = {view for view in views if "branch_id" in warehouse.columns(view)}
    site = _Site((dashboard,), {dashboard.name: [tenant]}, data, branched, warehouse)
    query = urlencode({"tenant": tenant})
    every = {alias for page in dashboard.pages for alias in _aliases(page)}
    branches = site.branches(dashboard, every, tenant)
    sections = [
        Section(
            page.id,
            page.title,
            site.date_ranges(dashboard, _aliases(page), tenant),
            [site.figure(dashboard, chart, tenant, branches) for chart in page.charts],
        )
        for page in dashboard.pages
    ]
    frame = PageFrame(
        title=dashboard.title,
        dashboards=[
            Link(d.title.split(":")[0], f"{quote(d.name)}?{query}", d.name == dashboard.name)
            for d in others
        ],
        pages=[Link(page.title, f"#{page.id}") for page in dashboard.pages],
        tenants=[Link(tenant, f"?{query}", True)],
        branches=branches,
        date_ranges=[],
    )
    return dashboard_html(frame, sections)


def _aliases(page: Page) -> set[str]:
    """The data sources a page reads: its charts' and its controls'."""
    return {chart.data_source for chart in page.charts} | {
        control.data_source for control in page.controls if control.data_source
    }


def tenant_folder(tenant: str) -> str:
    """A folder name for a tenant id; ids that are not safe names get a hash suffix."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", tenant) or "_"
    return safe if safe == tenant else f"{safe}-{hashlib.sha256(tenant.encode()).hexdigest()[:8]}"


def _rows(warehouse: Warehouse, views: list[str], tenants: Sequence[str] | None) -> Rows:
    data: Rows = {}
    for view in views:
        by_tenant: dict[str, list[Row]] = {}
        if tenants:
            for tenant in tenants:
                by_tenant[tenant] = warehouse.query(view, {"tenant_id": tenant})
        else:
            for row in warehouse.query(view):
                by_tenant.setdefault(row["tenant_id"], []).append(row)
        data[view] = by_tenant
    return data


def _tenants_of(dashboard: Dashboard, data: Rows) -> list[str]:
    found = {t for source in dashboard.data_sources.values() for t in data[source.view]}
    return sorted(found)


@dataclass(frozen=True)
class _Site:
    dashboards: tuple[Dashboard, ...]
    plan: dict[str, list[str]]  # dashboard -> its tenants
    data: Rows
    branched: set[str]  # views with a branch_id
    warehouse: Warehouse
    # (view, by, tenant, branch or "") -> headline rows, each computed once
    headlines: dict[tuple[str, tuple[str, ...], str, str], list[Row]] = field(default_factory=dict)

    def view_rows(self, source: DataSource, tenant: str) -> list[Row]:
        return self.data[source.view].get(tenant, [])

    def rows(self, dashboard: Dashboard, alias: str, tenant: str, branch: str = "") -> list[Row]:
        """What a chart over ``alias`` draws: the view's rows (of ``branch``, "": every
        branch), or the headline the warehouse computes for them."""
        source = dashboard.data_sources[alias]
        if source.kind == "headline":
            return self.headline(source, tenant, branch)
        rows = self.view_rows(source, tenant)
        return [row for row in rows if str(row["branch_id"]) == branch] if branch else rows

    def headline(self, source: DataSource, tenant: str, branch: str) -> list[Row]:
        key = (source.view, tuple(source.by), tenant, branch)
        if key not in self.headlines:
            span = self.span(source, tenant)
            self.headlines[key] = (
                self.warehouse.headline(
                    source.view,
                    tenant,
                    *span,
                    branches=[branch] if branch else None,
                    by=source.by,
                )
                if span
                else []
            )
        return self.headlines[key]

    def span(self, source: DataSource, tenant: str) -> tuple[date, date] | None:
        """Every date of the report for the tenant: what the date control states."""
        days = [row[source.date_column] for row in self.view_rows(source, tenant)]
        days = [day for day in days if day]
        return (min(days), max(days)) if days else None

    def branches(self, dashboard: Dashboard, aliases: set[str], tenant: str) -> list[str]:
        return sorted(
            {
                str(row["branch_id"])
                for alias in aliases
                if dashboard.data_sources[alias].view in self.branched
                for row in self.view_rows(dashboard.data_sources[alias], tenant)
            }
        )

    def page(self, dashboard: Dashboard, page: Page, tenant: str) -> str:
        aliases = _aliases(page)
        branches = self.branches(dashboard, aliases, tenant)
        figures = [self.figure(dashboard, chart, tenant, branches) for chart in page.charts]
        frame = PageFrame(
            title=f"{dashboard.title}: {page.title}",
            dashboards=self.dashboard_links(dashboard, tenant),
            pages=[Link(p.title, f"{p.id}.html", p.id == page.id) for p in dashboard.pages],
            tenants=[
                Link(t, f"../{tenant_folder(t)}/{page.id}.html", t == tenant)
                for t in self.plan[dashboard.name]
            ],
            branches=branches,
            date_ranges=self.date_ranges(dashboard, aliases, tenant),
        )
        return page_html(frame, figures)

    def figure(self, dashboard: Dashboard, chart: Chart, tenant: str, branches: list[str]) -> str:
        alias = chart.data_source
        salt = f"{dashboard.name}-{chart.id}"
        variants = [("", _content(chart, self.rows(dashboard, alias, tenant), salt))]
        if dashboard.data_sources[alias].view not in self.branched:
            notes = [chart.note, "Every branch: this view has no branch"]
            return figure_html(chart, variants, " ".join(n for n in notes if n))
        for branch in branches:
            mine = self.rows(dashboard, alias, tenant, branch)
            variants.append((branch, _content(chart, mine, f"{salt}-{branch}")))
        return figure_html(chart, variants, chart.note)

    def dashboard_links(self, current: Dashboard, tenant: str) -> list[Link]:
        links = [Link("All dashboards", "../../index.html")]
        for other in self.dashboards:
            tenants = self.plan[other.name]
            if not tenants:
                continue
            same = tenant if tenant in tenants else tenants[0]
            href = f"../../{other.name}/{tenant_folder(same)}/{other.pages[0].id}.html"
            links.append(Link(other.title.split(":")[0], href, other.name == current.name))
        return links

    def date_ranges(self, dashboard: Dashboard, aliases: set[str], tenant: str) -> list[str]:
        """What the date range control covers: every date of each view (the preview does
        not narrow it; Looker Studio's control does)."""
        shown = set()
        for alias in aliases:
            source = dashboard.data_sources[alias]
            span = self.span(source, tenant)
            days = f"{key_text(span[0])} to {key_text(span[1])}" if span else "no data"
            shown.add(f"{source.view}.{source.date_column} {days}")
        return sorted(shown)


def _content(chart: Chart, rows: list[Row], salt: str) -> str:
    lines = aggregate(chart, rows)
    if chart.type == "scorecard":
        return scorecard_html(chart, lines)
    if chart.type == "table":
        return table_html(chart, lines)
    return chart_svg(chart, lines, salt)
