"""The headline queries of bigquery/headlines/: BigQuery SQL that sqlglot reads and turns
into DuckDB's, one per report view with headline figures, taking only the declared
parameters, reading only relations the warehouse has, and refusing what they cannot
answer (a branch of a report without branches, a dimension they are not grouped by)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from mymedic.adapters.sql_catalog import (
    HeadlineDef,
    headline_defs,
    headline_parameters,
    sql_files,
    to_duckdb,
)
from mymedic.domain.money import EXPONENTS
from mymedic.reports.catalog import REPORTS
from mymedic.reports.snapshot.figures import _FIGURES

HEADLINES = headline_defs()
RELATIONS = {f.name for f in sql_files()}


def test_every_report_with_snapshot_figures_has_its_headline_query() -> None:
    views = {spec.name: spec.view for spec in REPORTS}
    assert {views[name] for name in _FIGURES} == set(HEADLINES)
    assert set(HEADLINES) <= set(views.values())


@pytest.mark.parametrize("headline", HEADLINES.values(), ids=lambda h: h.view)
def test_a_query_over_known_relations_that_duckdb_runs(headline: HeadlineDef) -> None:
    tree = sqlglot.parse_one(headline.sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(tree, exp.Select), "a query, not a statement that creates anything"
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    read = {t.name for t in tree.find_all(exp.Table) if t.name not in ctes}
    assert read and read <= RELATIONS, read - RELATIONS
    assert headline.sql.rstrip().endswith("select * from final")
    duck = to_duckdb(headline.sql)
    assert "@" not in duck and "$tenant_id" in duck
    # Every dimension it may be grouped by is a boolean of its own, and a column.
    for name in headline.by:
        assert f"@by_{name}" in headline.sql, name
        assert name in headline.columns
    if headline.per_currency:
        assert "currency" in headline.columns


def test_parameters_are_typed_values_and_refused_when_they_cannot_apply() -> None:
    volume = HEADLINES["rpt_patient_volume"]
    values = headline_parameters(
        volume, "t1", date(2026, 1, 1), date(2026, 3, 31), branches=None, by=["month"]
    )
    assert values == {
        "tenant_id": "t1",
        "from_date": date(2026, 1, 1),
        "to_date": date(2026, 3, 31),
        "by_branch_id": False,
        "by_modality": False,
        "by_month": True,
        "branches": "*",
    }
    some = headline_parameters(
        volume, "t1", date(2026, 1, 1), date(2026, 1, 1), branches=["b1", "b2"], by=()
    )
    assert some["branches"] == "b1,b2"
    for branches, by, reason in (
        (["b1,b2"], (), "no such branch"),
        ([], (), "no such branch"),
        (None, ["payer_type"], "only by"),
    ):
        with pytest.raises(ValueError, match=reason):
            headline_parameters(
                volume, "t1", date(2026, 1, 1), date(2026, 1, 1), branches=branches, by=by
            )
    with pytest.raises(ValueError, match="no branch"):
        headline_parameters(
            HEADLINES["rpt_referral_source"],
            "t1",
            date(2026, 1, 1),
            date(2026, 1, 1),
            branches=["b1"],
            by=(),
        )
    with pytest.raises(ValueError, match="before"):
        headline_parameters(volume, "t1", date(2026, 1, 2), date(2026, 1, 1), branches=None, by=())


def test_google_ads_roas_knows_the_currency_exponents() -> None:
    sql = HEADLINES["rpt_google_ads"].sql
    found: dict[str, int] = {}
    for codes, factor in re.findall(r"in \(([^)]*)\)\s*then (\d+)", sql):
        exponent = 6 - len(factor) + 1  # 10^(6 - exponent) micros per minor unit
        found.update(dict.fromkeys(re.findall(r"'([A-Z]{3})'", codes), exponent))
    assert found == EXPONENTS
    assert "else 10000" in sql
