"""The Looker Studio Linking API URL that creates a dashboard's report: the template
report (or a blank one) with each data source alias pointed at its BigQuery view, or at
the view's materialized copy (``mat_<view>``) where it has one: a dashboard load then
reads a small table instead of computing the view (see ``reports.materialize``).

https://developers.google.com/looker-studio/integrate/linking-api: ``c.reportId``,
``r.reportName`` and, per alias, ``ds.<alias>.connector=bigQuery``, ``.type=TABLE``,
``.projectId``, ``.datasetId``, ``.tableId`` and ``.datasourceName``."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from mymedic.adapters.sql_catalog import materialized_table
from mymedic.dashboards.model import Dashboard
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
