"""A dashboard adds up across a view's rows only what adds up: the model refuses, when a
definition loads, a sum, mean or extreme of a distinct count, median, percentile or rate
over several rows, and says where such a figure comes from instead (the view's grain,
or a headline data source, which the warehouse computes at its own grain)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mymedic.dashboards.aggregate import aggregate
from mymedic.dashboards.linking import custom_query, linking_parameters
from mymedic.dashboards.model import Chart, Dashboard, load_dashboards

CONTROLS = [
    {"id": "t", "type": "dropdown", "field": "tenant_id", "data_source": "vol"},
    {"id": "b", "type": "dropdown", "field": "branch_id", "data_source": "vol"},
    {"id": "d", "type": "date_range"},
]
SOURCES: dict[str, Any] = {
    "vol": {"view": "rpt_patient_volume", "date_column": "month"},
    "wait": {"view": "rpt_waiting_time", "date_column": "week"},
    "aging": {"view": "rpt_receivables_aging", "date_column": "as_of_date"},
    "vol_totals": {"view": "rpt_patient_volume", "date_column": "month", "kind": "headline"},
    "vol_by_branch": {
        "view": "rpt_patient_volume",
        "date_column": "month",
        "kind": "headline",
        "by": ["branch_id"],
    },
    "revenue_by_month": {
        "view": "rpt_revenue_breakdown",
        "date_column": "month",
        "kind": "headline",
        "by": ["month"],
    },
}


def _dashboard(**chart: Any) -> dict[str, Any]:
    body = {"id": "c", "type": "scorecard", "title": "C", "data_source": "vol"} | chart
    page = {"id": "p", "title": "P", "controls": CONTROLS, "charts": [body]}
    return {"name": "ops", "title": "Ops", "data_sources": SOURCES, "pages": [page]}


def _metric(column: str, aggregation: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"column": column, "aggregation": aggregation, **extra}]


def test_every_shipped_dashboard_loads() -> None:
    assert {d.name for d in load_dashboards()} >= {"operations", "revenue", "marketing"}


@pytest.mark.parametrize(
    ("chart", "reason"),
    [
        # The "82 new patients for 80": new patients summed over branch x modality.
        (
            {"metrics": _metric("new_patients", "sum")},
            "sum of rpt_patient_volume.new_patients across its rows .* a distinct count",
        ),
        (
            {"type": "bar", "dimensions": ["branch_id"], "metrics": _metric("new_patients", "sum")},
            "does not group by modality, month",
        ),
        (
            {
                "type": "timeseries",
                "data_source": "wait",
                "dimensions": ["week"],
                "metrics": _metric("median_lead_hours", "avg"),
            },
            "avg of rpt_waiting_time.median_lead_hours .* a median",
        ),
        (
            {
                "type": "table",
                "data_source": "wait",
                "dimensions": ["branch_id", "modality"],
                "metrics": _metric("p90_lead_hours", "max"),
            },
            "max of rpt_waiting_time.p90_lead_hours .* a percentile",
        ),
        (
            {"data_source": "wait", "metrics": _metric("same_day_share", "avg", percent=True)},
            "a share",
        ),
        (
            {
                "type": "timeseries",
                "data_source": "wait",
                "dimensions": ["week"],
                "metrics": _metric("median_lead_hours", "none"),
                "filters": [
                    {"column": "branch_id", "op": "eq", "value": "b1"},
                    {"column": "modality", "op": "in", "value": ["MRI", "CT"]},
                ],
            },
            "does not group by modality",
        ),
        (
            {"data_source": "wait", "metrics": _metric("appointments", "avg")},
            "the mean or an extreme",
        ),
        (
            {"data_source": "vol", "metrics": _metric("scans", "none")},
            "one row's value where there are several",
        ),
        (
            {
                "data_source": "aging",
                "metrics": _metric(
                    "outstanding_minor", "sum", money={"currency_column": "currency"}
                ),
            },
            "adds a balance across as_of_date",
        ),
        (
            {"type": "table", "data_source": "vol_by_branch", "dimensions": ["new_patients"]}
            | {"metrics": _metric("scans", "none")},
            "group the chart by branch_id too",
        ),
        (
            {"data_source": "revenue_by_month", "metrics": _metric("appointments", "none")},
            "group the chart by currency, month too",
        ),
        (
            {"data_source": "vol_totals", "metrics": _metric("median_lead_hours", "none")},
            "the headline of rpt_patient_volume has no",
        ),
        (
            {"data_source": "vol_totals", "metrics": _metric("branch_id", "count")},
            "has no \\['branch_id'\\]",
        ),
    ],
)
def test_the_model_refuses_adding_what_does_not_add(chart: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Dashboard.model_validate(_dashboard(**chart))


@pytest.mark.parametrize(
    "chart",
    [
        {"metrics": _metric("scans", "sum")},
        {"type": "bar", "dimensions": ["branch_id"], "metrics": _metric("no_shows", "sum")},
        {"metrics": _metric("new_patients", "count")},
        # At the view's grain each group is one row: any aggregation is that row's value.
        {
            "type": "table",
            "dimensions": ["branch_id", "modality", "month"],
            "metrics": _metric("new_patients", "none"),
        },
        {
            "type": "timeseries",
            "data_source": "aging",
            "dimensions": ["as_of_date"],
            "metrics": _metric("outstanding_minor", "sum", money={"currency_column": "currency"}),
        },
        # The weekly medians of one branch and modality, fixed by the chart's filters.
        {
            "type": "timeseries",
            "data_source": "wait",
            "dimensions": ["week"],
            "metrics": _metric("median_lead_hours", "none"),
            "filters": [
                {"column": "branch_id", "op": "eq", "value": "b1"},
                {"column": "modality", "op": "eq", "value": "MRI"},
            ],
        },
        {"data_source": "vol_totals", "metrics": _metric("new_patients", "none")},
        {
            "type": "bar",
            "data_source": "vol_by_branch",
            "dimensions": ["branch_id"],
            "metrics": _metric("new_patients", "none"),
        },
        {
            "type": "timeseries",
            "data_source": "revenue_by_month",
            "dimensions": ["month"],
            "metrics": _metric("paid_minor", "none", money={"currency_column": "currency"}),
        },
    ],
)
def test_what_adds_up_or_is_shown_at_its_grain_is_accepted(chart: dict[str, Any]) -> None:
    Dashboard.model_validate(_dashboard(**chart))


def test_headline_sources_are_grouped_only_as_their_query_can_be() -> None:
    bad = dict(SOURCES, vol_totals=SOURCES["vol_by_branch"] | {"by": ["payer_type"]})
    with pytest.raises(ValidationError, match="only by"):
        Dashboard.model_validate(_dashboard() | {"data_sources": bad})
    view_by = dict(SOURCES, vol=SOURCES["vol"] | {"by": ["branch_id"]})
    with pytest.raises(ValidationError, match="only a headline data source is grouped by"):
        Dashboard.model_validate(_dashboard() | {"data_sources": view_by})
    controls = [CONTROLS[0], CONTROLS[1] | {"data_source": "vol_by_branch"}, CONTROLS[2]]
    definition = _dashboard(metrics=_metric("scans", "sum"))
    definition["pages"][0]["controls"] = controls
    with pytest.raises(ValidationError, match="a drop-down lists a view's values"):
        Dashboard.model_validate(definition)


def test_none_takes_the_one_row_and_refuses_several() -> None:
    chart = Chart.model_validate(
        {
            "id": "c",
            "type": "table",
            "title": "C",
            "data_source": "d",
            "dimensions": ["branch"],
            "metrics": _metric("median", "none"),
        }
    )
    [line] = aggregate(chart, [{"branch": "a", "median": 12.5}])
    assert line.values == (12.5,)
    with pytest.raises(ValueError, match="2 rows where the chart shows one row's"):
        aggregate(chart, [{"branch": "a", "median": 12.5}, {"branch": "a", "median": 3.0}])


def test_a_headline_source_is_a_custom_query_with_looker_studio_parameters() -> None:
    dashboard = Dashboard.model_validate(_dashboard(metrics=_metric("scans", "sum")))
    params = linking_parameters(dashboard, "clinic-prod-1", "mymedic")
    assert params["ds.vol.type"] == "TABLE"
    assert params["ds.vol_by_branch.type"] == "CUSTOM_QUERY"
    assert params["ds.vol_by_branch.projectId"] == "clinic-prod-1"
    assert params["ds.vol_by_branch.datasourceName"] == "mymedic.vol_by_branch"
    sql = params["ds.vol_by_branch.sql"]
    assert "`clinic-prod-1.mymedic.fct_appointment`" in sql
    assert "parse_date('%Y%m%d', @DS_START_DATE)" in sql
    assert "parse_date('%Y%m%d', @DS_END_DATE)" in sql
    assert "@tenant_id" in sql and "@branches" in sql
    assert "@from_date" not in sql and "@by_" not in sql
    assert "if(true, appointments.branch_id, null)" in sql
    assert "if(false, appointments.modality, null)" in sql
    # Only the dimensions it is grouped by: a page's month or modality filter finds none.
    readable = custom_query(dashboard.data_sources["vol_by_branch"], None)
    selected = readable.rsplit("select\n", 1)[1]
    assert selected.split("from final")[0].split() == [
        "branch_id,",
        "scans,",
        "patients,",
        "new_patients,",
        "returning_patients,",
        "cancelled,",
        "no_shows,",
        "still_booked",
    ]
    with pytest.raises(ValueError, match="only a headline"):
        custom_query(dashboard.data_sources["vol"], None)
