"""A dashboard definition: data sources (alias -> rpt_ view, or the headline figures of
one), pages with their filter controls, and charts of dimensions, metrics and filters
over one data source each.

Columns of a view are checked against the views by the tests (the model does not open a
warehouse); the rules here are the ones a definition can break on its own, among them
that a chart adds up across a view's rows only what adds up (``reports.additivity``):
a distinct count, median, percentile, mean or rate is shown at the view's own grain or
from a headline data source, whose figures the warehouse computes at their own grain."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mymedic.adapters.sql_catalog import headline_defs
from mymedic.reports.additivity import UnknownView, ViewMeasures, view_measures

# "none": the value of the one row of each group (a chart at its source's grain).
Aggregation = Literal["sum", "avg", "max", "min", "count", "none"]
ChartType = Literal["scorecard", "timeseries", "bar", "table", "pie"]
FilterOp = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte"]
Scalar = str | int | float | bool

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
GRAPHS = ("timeseries", "bar", "pie")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(_Strict):
    """A money column: integer minor units of the currency in ``currency_column`` (or
    millionths of a major unit, ``micros``), shown in major units with the currency."""

    currency_column: str
    unit: Literal["minor", "micros"] = "minor"


class Metric(_Strict):
    column: str
    aggregation: Aggregation
    label: str | None = None
    money: Money | None = None
    percent: bool = False

    @model_validator(mode="after")
    def _money_is_summed(self) -> Metric:
        if self.money is not None and self.aggregation == "count":
            raise ValueError(f"{self.column}: a money metric is not counted")
        if self.money is not None and self.percent:
            raise ValueError(f"{self.column}: money is not a percentage")
        return self

    @property
    def title(self) -> str:
        return self.label or f"{self.column} ({self.aggregation})"


class Filter(_Strict):
    column: str
    op: FilterOp
    value: Scalar | list[Scalar]

    @model_validator(mode="after")
    def _lists_for_in(self) -> Filter:
        if (self.op in ("in", "not_in")) != isinstance(self.value, list):
            raise ValueError(f"{self.column}: in and not_in take a list, other ops a value")
        return self


class Chart(_Strict):
    id: str
    type: ChartType
    title: str
    data_source: str
    # What the chart shows, in a sentence under it (how a figure is computed).
    note: str | None = None
    dimensions: list[str] = Field(default_factory=list)
    metrics: list[Metric] = Field(min_length=1)
    filters: list[Filter] = Field(default_factory=list)
    limit: int | None = Field(default=None, gt=0)
    sort: Literal["metric_desc", "dimensions_asc", "dimensions_desc"] = "metric_desc"

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"chart id {value!r}: lowercase letters, digits and hyphens")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Chart:
        dims, metrics = len(self.dimensions), len(self.metrics)
        if self.type == "scorecard" and (dims or metrics != 1):
            raise ValueError(f"{self.id}: a scorecard is one metric, no dimension")
        if self.type == "pie" and (dims != 1 or metrics != 1):
            raise ValueError(f"{self.id}: a pie is one dimension and one metric")
        if self.type in ("timeseries", "bar") and not 1 <= dims <= 2:
            raise ValueError(f"{self.id}: a {self.type} has a dimension and maybe a breakdown")
        if self.type in ("timeseries", "bar") and dims == 2 and metrics != 1:
            raise ValueError(f"{self.id}: a breakdown dimension takes one metric")
        if self.type == "table" and not dims:
            raise ValueError(f"{self.id}: a table has at least one dimension")
        currencies = {m.money.currency_column for m in self.metrics if m.money}
        if len(currencies) > 1:
            raise ValueError(f"{self.id}: money metrics of one chart share a currency column")
        if self.type in GRAPHS and currencies and any(m.money is None for m in self.metrics):
            raise ValueError(f"{self.id}: a graph does not draw money and counts on one axis")
        return self

    @property
    def currency_column(self) -> str | None:
        return next((m.money.currency_column for m in self.metrics if m.money), None)

    def columns(self) -> set[str]:
        """Every column of its view the chart reads."""
        used = set(self.dimensions) | {m.column for m in self.metrics}
        used |= {f.column for f in self.filters}
        return used | ({self.currency_column} if self.currency_column else set())


class Control(_Strict):
    """A page's filter control: a drop-down list of a field's values (taken from one data
    source, filtering every chart whose view has the field) or the date range."""

    id: str
    type: Literal["dropdown", "date_range"]
    field: str | None = None
    data_source: str | None = None

    @model_validator(mode="after")
    def _dropdown_has_field(self) -> Control:
        if (self.type == "dropdown") != (self.field is not None and self.data_source is not None):
            raise ValueError(f"{self.id}: a dropdown (only) names its field and data source")
        return self


class Page(_Strict):
    id: str
    title: str
    controls: list[Control]
    charts: list[Chart] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"page id {value!r}: lowercase letters, digits and hyphens")
        return value

    def dropdown(self, field: str) -> Control | None:
        return next((c for c in self.controls if c.type == "dropdown" and c.field == field), None)

    @model_validator(mode="after")
    def _tenant_branch_and_dates(self) -> Page:
        for field in ("tenant_id", "branch_id"):
            if self.dropdown(field) is None:
                raise ValueError(f"page {self.id}: no {field} control")
        if not any(c.type == "date_range" for c in self.controls):
            raise ValueError(f"page {self.id}: no date range control")
        return self


class DataSource(_Strict):
    """A report view (``kind`` view: a BigQuery table data source in Looker Studio), or
    its headline figures (``kind`` headline: bigquery/headlines/<view>.sql, a BigQuery
    custom query with the report's date range, tenant and branches as parameters),
    grouped by the dimensions ``by`` (none: one row per currency, or one)."""

    view: str
    date_column: str
    kind: Literal["view", "headline"] = "view"
    by: list[str] = Field(default_factory=list)

    @field_validator("view")
    @classmethod
    def _report_view(cls, value: str) -> str:
        if not value.startswith("rpt_"):
            raise ValueError(f"{value}: dashboards read the rpt_ views")
        return value

    @model_validator(mode="after")
    def _headline(self) -> DataSource:
        if self.kind == "view":
            if self.by:
                raise ValueError(f"{self.view}: only a headline data source is grouped by")
            return self
        headline = headline_defs().get(self.view)
        if headline is None:
            raise ValueError(f"{self.view}: no headline figures (bigquery/headlines/)")
        unknown = [name for name in self.by if name not in headline.by]
        if unknown:
            raise ValueError(
                f"{self.view}: its headline is not grouped by {unknown}; "
                f"only by {list(headline.by)}"
            )
        return self

    def columns(self) -> set[str] | None:
        """A headline's columns (known from its SQL); None for a view (the warehouse's)."""
        if self.kind == "view":
            return None
        return set(headline_defs()[self.view].columns_by(self.by))

    def grain(self) -> set[str]:
        """What makes one of its rows: a view's grain (its tenant aside), or the
        dimensions a headline is grouped by and its currency."""
        if self.kind == "view":
            return set(view_measures(self.view).grain)
        per_currency = headline_defs()[self.view].per_currency
        return set(self.by) | ({"currency"} if per_currency else set())


class Dashboard(_Strict):
    name: str
    title: str
    template_report_id: str | None = None
    data_sources: dict[str, DataSource] = Field(min_length=1)
    pages: list[Page] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"dashboard name {value!r}: lowercase letters, digits and hyphens")
        return value

    @model_validator(mode="after")
    def _references(self) -> Dashboard:
        for alias in self.data_sources:
            if not _IDENT.match(alias):
                raise ValueError(f"data source alias {alias!r}: lowercase letters, digits, _")
        if len({p.id for p in self.pages}) != len(self.pages):
            raise ValueError(f"{self.name}: page ids repeat")
        charts = [chart for page in self.pages for chart in page.charts]
        if len({c.id for c in charts}) != len(charts):
            raise ValueError(f"{self.name}: chart ids repeat")
        used = {c.data_source for c in charts}
        used |= {c.data_source for p in self.pages for c in p.controls if c.data_source}
        unknown = used - set(self.data_sources)
        if unknown:
            raise ValueError(f"{self.name}: no data source {sorted(unknown)}")
        for page in self.pages:
            for control in page.controls:
                source = self.data_sources.get(control.data_source or "")
                if source is not None and source.kind != "view":
                    raise ValueError(f"{control.id}: a drop-down lists a view's values")
        for chart in charts:
            source = self.data_sources[chart.data_source]
            if chart.type == "timeseries" and chart.dimensions[0] != source.date_column:
                raise ValueError(f"{chart.id}: a time series runs on {source.date_column}")
            _adds_only_what_adds_up(chart, source)
        return self


def _adds_only_what_adds_up(chart: Chart, source: DataSource) -> None:
    """Refuse a chart that aggregates across rows of its source what does not add up:
    across a view's rows only additive measures are summed (semi-additive ones within
    each value of their as-of column), and counted; anything else is shown at the
    source's grain (the chart groups by all of it, or keeps it at one value with an
    ``eq`` filter: one row per group), where every aggregation is the row's own value. A
    headline data source is always shown at its grain."""
    columns = source.columns()
    if columns is not None:
        unknown = chart.columns() - columns
        if unknown:
            raise ValueError(f"{chart.id}: the headline of {source.view} has no {sorted(unknown)}")
    try:
        grain = source.grain()
    except UnknownView as exc:
        raise ValueError(f"{chart.id}: {exc.args[0]}") from None
    grouped = set(chart.dimensions) | ({chart.currency_column} if chart.currency_column else set())
    # A column the chart keeps at one value (its own filter, not a page control that may
    # be cleared) is as good as grouped by: the median of one branch and modality's weeks.
    grouped |= {rule.column for rule in chart.filters if rule.op == "eq"}
    if grain <= grouped:
        return
    missing = ", ".join(sorted(grain - grouped))
    if source.kind == "headline":
        raise ValueError(
            f"{chart.id}: the headline of {source.view} by {source.by or 'nothing'} has a row"
            f" per {', '.join(sorted(grain))}: group the chart by {missing} too"
        )
    measures = view_measures(source.view)
    for metric in chart.metrics:
        refused = _refusal(metric, measures, grouped)
        if refused:
            raise ValueError(
                f"{chart.id}: {metric.aggregation} of {source.view}.{metric.column} across its"
                f" rows (one per {', '.join(measures.grain)}; this chart does not group by"
                f" {missing}) {refused}. Show it at the view's grain or from a headline data"
                " source, which the warehouse computes at its own grain"
            )


def _refusal(metric: Metric, measures: ViewMeasures, grouped: set[str]) -> str | None:
    """Why ``metric`` may not aggregate several rows of the view, or None."""
    column, aggregation = metric.column, metric.aggregation
    if aggregation == "count":
        return None
    if aggregation == "none":
        return "shows one row's value where there are several"
    if column in measures.non_additive:
        return f"adds what does not add: it is {measures.non_additive[column]}"
    if column in measures.semi_additive:
        per = measures.semi_additive[column]
        if aggregation == "sum" and set(per) <= grouped:
            return None
        return f"adds a balance across {', '.join(per)} (group the chart by it)"
    if column in measures.additive:
        if aggregation == "sum":
            return None
        return "takes the mean or an extreme of rows whose size depends on how the view is cut"
    return "is not a measure the view declares (mymedic/reports/additivity.py)"


def definitions_root() -> Path:
    """looker/dashboards of the checkout, or the copy packaged as mymedic/looker."""
    packaged = resources.files("mymedic") / "looker"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "looker" / "dashboards"


@cache
def load_dashboards(root: Path | None = None) -> tuple[Dashboard, ...]:
    """Every definition, in file name order; a file is named after its dashboard."""
    base = root or definitions_root()
    found: list[Dashboard] = []
    for path in sorted(base.glob("*.json")):
        dashboard = Dashboard.model_validate_json(path.read_text(encoding="utf-8"))
        if dashboard.name != path.stem:
            raise ValueError(f"{path.name} defines {dashboard.name!r}: name it after the file")
        found.append(dashboard)
    if not found:
        raise FileNotFoundError(f"no dashboard definitions under {base}")
    return tuple(found)
