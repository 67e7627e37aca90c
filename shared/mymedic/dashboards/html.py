"""The preview's HTML: a page of figures with its tenant, branch and date range controls,
tables and scorecards, the index, and the inline script (no network: no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from mymedic.dashboards.aggregate import Line, key_text, value_text
from mymedic.dashboards.model import Chart

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #202124; }
header { background: #fff; padding: 12px 20px; border-bottom: 1px solid #dadce0; }
h1 { font-size: 20px; margin: 0 0 8px; }
nav a { margin-right: 14px; color: #1a73e8; text-decoration: none; }
nav a.current { font-weight: 600; color: #202124; }
.controls { display: flex; gap: 18px; align-items: center; margin-top: 10px; flex-wrap: wrap; }
.controls label { font-size: 13px; color: #5f6368; }
.date-range { font-size: 13px; color: #5f6368; }
main { display: grid; grid-template-columns: repeat(12, 1fr); gap: 16px; padding: 16px 20px;
       align-items: start; }
figure.chart { background: #fff; margin: 0; padding: 12px; border-radius: 8px;
               box-shadow: 0 1px 2px rgba(60, 64, 67, .3); }
figure.chart { grid-column: span 6; }
figure.chart-scorecard { grid-column: span 3; }
figure.chart-table { grid-column: span 12; }
@media (max-width: 900px) { figure.chart, figure.chart-scorecard { grid-column: span 12; } }
figcaption { font-weight: 600; margin-bottom: 8px; }
section.page > h2 { font-size: 18px; margin: 20px 20px 0; }
section.page > .date-range { display: block; margin: 4px 20px 0; }
.note { font-size: 12px; color: #80868b; margin-top: 6px; }
.variant svg { width: 100%; height: auto; display: block; }
.scorecard { font-size: 34px; font-weight: 600; padding: 8px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e8eaed; text-align: left; }
th.number, td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.number { white-space: nowrap; }
"""

# Marks each figure rendered when its visible chart (SVG, table or scorecard) has a
# non-zero box, and counts them on the body; the branch select (or ?branch= in the URL)
# shows each figure's variant for that branch (a view without branches has only one).
SCRIPT = """
(function () {
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart"));
  function visible(figure) {
    var variants = figure.querySelectorAll(".variant");
    for (var i = 0; i < variants.length; i++) if (!variants[i].hidden) return variants[i];
    return null;
  }
  function check() {
    var rendered = 0;
    figures.forEach(function (figure) {
      var variant = visible(figure);
      var body = variant && variant.querySelector("svg, table, .scorecard");
      var box = body ? body.getBoundingClientRect() : null;
      var ok = !!box && box.width > 0 && box.height > 0;
      figure.dataset.rendered = ok ? "true" : "false";
      if (ok) rendered++;
    });
    document.body.dataset.chartsRendered = String(rendered);
  }
  var branch = document.getElementById("branch");
  function showBranch() {
    figures.forEach(function (figure) {
      var variants = Array.prototype.slice.call(figure.querySelectorAll(".variant"));
      var has = variants.some(function (v) { return v.dataset.branch === branch.value; });
      var wanted = has ? branch.value : "";
      variants.forEach(function (v) { v.hidden = v.dataset.branch !== wanted; });
    });
    check();
  }
  branch.addEventListener("change", showBranch);
  var asked = new URLSearchParams(window.location.search).get("branch");
  if (asked && Array.prototype.some.call(branch.options, function (o) {
    return o.value === asked;
  })) {
    branch.value = asked;
    showBranch();
  }
  var tenant = document.getElementById("tenant");
  tenant.addEventListener("change", function () {
    window.location.href = tenant.options[tenant.selectedIndex].dataset.href;
  });
  if (document.readyState === "complete") check();
  else window.addEventListener("load", check);
})();
"""


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    current: bool = False


@dataclass(frozen=True)
class PageFrame:
    """What surrounds a page's figures: its titles, navigation and controls."""

    title: str
    dashboards: list[Link]
    pages: list[Link]
    tenants: list[Link]
    branches: list[str]
    date_ranges: list[str]


def scorecard_html(chart: Chart, lines: list[Line]) -> str:
    metric = chart.metrics[0]
    if not lines:
        return '<div class="scorecard">No data</div>'
    shown = [line for line in lines if not (metric.money and line.currency is None)] or lines
    values = "<br>".join(
        escape(value_text(metric, line.values[0], line.currency)) for line in shown
    )
    return f'<div class="scorecard">{values}</div>'


def table_html(chart: Chart, lines: list[Line]) -> str:
    head = "".join(f"<th>{escape(d)}</th>" for d in chart.dimensions)
    head += "".join(f'<th class="number">{escape(m.title)}</th>' for m in chart.metrics)
    body = []
    for line in lines:
        cells = "".join(f"<td>{escape(key_text(k))}</td>" for k in line.keys)
        cells += "".join(
            f'<td class="number">{escape(value_text(m, v, line.currency))}</td>'
            for m, v in zip(chart.metrics, line.values, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        span = len(chart.dimensions) + len(chart.metrics)
        body.append(f'<tr><td colspan="{span}">No data</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure_html(chart: Chart, variants: list[tuple[str, str]], note: str | None) -> str:
    """``variants``: (branch, content) pairs, the first one ("": every branch) shown."""
    parts = [
        f'<div class="variant" data-branch="{escape(branch)}"{" hidden" if i else ""}>'
        f"{content}</div>"
        for i, (branch, content) in enumerate(variants)
    ]
    noted = f'<div class="note">{escape(note)}</div>' if note else ""
    return (
        f'<figure class="chart chart-{chart.type}" data-chart-id="{escape(chart.id)}">'
        f"<figcaption>{escape(chart.title)}</figcaption>{''.join(parts)}{noted}</figure>"
    )


def _links(links: list[Link]) -> str:
    current = ' class="current"'
    return "".join(
        f'<a href="{escape(link.href)}"{current if link.current else ""}>{escape(link.label)}</a>'
        for link in links
    )


@dataclass(frozen=True)
class Section:
    """One page of a dashboard inside a single document (``#<id>``)."""

    id: str
    title: str
    date_ranges: list[str]
    figures: list[str]


def _header(frame: PageFrame, dates: str) -> str:
    tenants = "".join(
        f'<option data-href="{escape(t.href)}"{" selected" if t.current else ""}>'
        f"{escape(t.label)}</option>"
        for t in frame.tenants
    )
    branches = '<option value="">All branches</option>' + "".join(
        f'<option value="{escape(b)}">{escape(b)}</option>' for b in frame.branches
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(frame.title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{escape(frame.title)}</h1><nav class="dashboards">'
        f'{_links(frame.dashboards)}</nav><nav class="pages">{_links(frame.pages)}</nav>'
        '<form class="controls" onsubmit="return false">'
        f'<label>Tenant <select id="tenant">{tenants}</select></label>'
        f'<label>Branch <select id="branch">{branches}</select></label>'
        f"{dates}</form></header>"
    )


def _dates(ranges: list[str]) -> str:
    shown = "; ".join(escape(d) for d in ranges)
    return f'<span class="date-range" data-control="dates">Dates: {shown}</span>'


def page_html(frame: PageFrame, figures: list[str]) -> str:
    return (
        f"{_header(frame, _dates(frame.date_ranges))}<main>{''.join(figures)}</main>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def dashboard_html(frame: PageFrame, sections: list[Section]) -> str:
    """Every page of a dashboard in one document, each a section its page link jumps to;
    the branch select shows every figure of every page for that branch."""
    body = "".join(
        f'<section class="page" id="{escape(section.id)}"><h2>{escape(section.title)}</h2>'
        f"{_dates(section.date_ranges)}<main>{''.join(section.figures)}</main></section>"
        for section in sections
    )
    return f"{_header(frame, '')}{body}<script>{SCRIPT}</script></body></html>\n"


def index_html(title: str, rows: list[tuple[Link, list[Link]]]) -> str:
    """One row per dashboard: its title and a link per tenant to its first page."""
    body = "".join(
        f"<tr><td>{escape(dashboard.label)}</td><td>{_links(tenants)}</td></tr>"
        for dashboard, tenants in rows
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1></header><main><figure>"
        f"<table><thead><tr><th>Dashboard</th><th>Tenants</th></tr></thead>"
        f"<tbody>{body}</tbody></table></figure></main></body></html>\n"
    )
