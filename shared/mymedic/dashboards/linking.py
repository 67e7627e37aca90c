"""The Looker Studio Linking API URL that creates a dashboard's report: the template
report (or a blank one) with each data source alias pointed at its BigQuery view, or at
the view's materialized copy (``mat_<view>``) where it has one: a dashboard load then
reads a small table instead of computing the view (see ``reports.materialize``). A
headline data source is a BigQuery custom query: the report's headline SQL
(bigquery/headlines/) with Looker Studio's date range parameters for its range and the
data source parameters ``tenant_id`` and ``branches`` (``custom_query``).

https://developers.google.com/looker-studio/integrate/linking-api: ``c.reportId``,
``r.reportName`` and, per alias, ``ds.<alias>.connector=bigQuery``, ``.type=TABLE``,
``.projectId``, ``.datasetId``, ``.tableId`` and ``.datasourceName`` (a custom query:
``.type=CUSTOM_QUERY``, ``.projectId`` the billing project, ``.sql``)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from mymedic.adapters.sql_catalog import headline_defs, materialized_table, sql_files
from mymedic.dashboards.model import Dashboard, DataSource
from mymedic.reports.materialize import is_materialized

BASE = "https://lookerstudio.google.com/reporting/create"

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_DATASET = re.compile(r"^[A-Za-z0-9_]{1,1024}$")


def linking_parameters(
    dashboard: Dashboard, project: str, dataset: str, template_report_id: str | None = None
) -> dict[str, str]:
    """The URL's parameters in order; ``template_report_id`` overrides the definition's."""
    if not _PROJECT.match(project):
        raise ValueError(f"{project!r} is not a Google Cloud project id")
    if not _DATASET.match(dataset):
        raise ValueError(f"{dataset!r} is not a BigQuery dataset id")
    params: dict[str, str] = {}
    template = template_report_id or dashboard.template_report_id
    if template:
        params["c.reportId"] = template
    params["r.reportName"] = dashboard.title
    for alias, source in dashboard.data_sources.items():
        prefix = f"ds.{alias}."
        params[prefix + "connector"] = "bigQuery"
        if source.kind == "headline":
            params[prefix + "type"] = "CUSTOM_QUERY"
            params[prefix + "projectId"] = project
            params[prefix + "sql"] = _compact(custom_query(source, f"{project}.{dataset}"))
            params[prefix + "datasourceName"] = f"{dataset}.{alias}"
            continue
        params[prefix + "type"] = "TABLE"
        params[prefix + "projectId"] = project
        params[prefix + "datasetId"] = dataset
        table = materialized_table(source.view) if is_materialized(source.view) else source.view
        params[prefix + "tableId"] = table
        params[prefix + "datasourceName"] = f"{dataset}.{table}"
    return params


def linking_url(
    dashboard: Dashboard, project: str, dataset: str, template_report_id: str | None = None
) -> str:
    params = linking_parameters(dashboard, project, dataset, template_report_id)
    # Spaces as %20 (not +) and every reserved character escaped.
    return f"{BASE}?{urlencode(params, quote_via=quote, safe='')}"


# Looker Studio passes its date range control to a custom query as the strings
# @DS_START_DATE and @DS_END_DATE (YYYYMMDD), once "Enable date range parameters" is
# ticked for the data source.
_LOOKER_DATES = {
    "from_date": "parse_date('%Y%m%d', @DS_START_DATE)",
    "to_date": "parse_date('%Y%m%d', @DS_END_DATE)",
}
_LAST_SELECT = re.compile(r"select \* from final\s*$")


def custom_query(source: DataSource, prefix: str | None) -> str:
    """The headline SQL of ``source`` as a Looker Studio custom query: its range from the
    report's date range control, its ``by_*`` groupings fixed as the source says, and
    only the columns the source has (a dimension it is not grouped by is left out, so a
    page's filter control on it does not empty the source); ``tenant_id`` and
    ``branches`` (``*``: every branch, or branch ids separated by commas) stay
    parameters of the data source. Relations are qualified with ``prefix``
    (``project.dataset``; None leaves them as they are)."""
    if source.kind != "headline":
        raise ValueError(f"{source.view}: only a headline data source is a custom query")
    headline = headline_defs()[source.view]
    lines = headline.sql.splitlines()
    body = "\n".join(lines[next(i for i, line in enumerate(lines) if not line.startswith("--")) :])
    grouped = f" by {', '.join(source.by)}" if source.by else ""
    sql = f"-- MyMedic: the headline figures of {source.view}{grouped}, defined and explained in"
    sql += f" bigquery/headlines/{source.view}.sql\n{body}\n"
    if prefix is not None:
        from mymedic.adapters.gcp.bigquery_warehouse import qualify_names

        sql = qualify_names(sql, {f.name for f in sql_files()}, prefix)
    for name, looker in _LOOKER_DATES.items():
        sql = re.sub(rf"@{name}\b", looker, sql)
    for name in headline.by:
        sql = re.sub(rf"@by_{name}\b", "true" if name in source.by else "false", sql)
    columns = ",\n    ".join(headline.columns_by(source.by))
    sql, found = _LAST_SELECT.subn(f"select\n    {columns}\nfrom final\n", sql)
    if found != 1:
        raise ValueError(f"{source.view}: its headline does not end `select * from final`")
    return sql


def _compact(sql: str) -> str:
    """The query as a link carries it: its first line (what it is), then its lines
    without their indentation or the comments between them (no line of a headline query
    is inside a string literal, so nothing else changes)."""
    first, *rest = sql.splitlines()
    kept = [line.strip() for line in rest if line.strip() and not line.lstrip().startswith("--")]
    return "\n".join([first, *kept])
