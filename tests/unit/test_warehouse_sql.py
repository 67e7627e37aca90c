"""Every file of bigquery/ is BigQuery SQL that sqlglot reads and turns into DuckDB's,
and each view reads only relations the adapters create before it (layer order:
tables, marts, reports; alphabetical within a layer)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from mymedic.adapters.sql_catalog import (
    LAYERS,
    SqlFile,
    headline_defs,
    sql_files,
    sql_root,
    to_duckdb,
)
from mymedic.domain.money import EXPONENTS

FILES = sql_files()


def test_every_sql_file_is_read() -> None:
    on_disk = {p.stem for layer in LAYERS for p in (sql_root() / layer).glob("*.sql")}
    assert {f.name for f in FILES} == on_disk
    assert {"rpt_referral_source", "rpt_google_ads", "fct_ad_cost"} <= on_disk


@pytest.mark.parametrize("file", FILES, ids=lambda f: f"{f.layer}/{f.name}")
def test_parses_as_bigquery_and_transpiles(file: SqlFile) -> None:
    sql = file.sql
    tree = sqlglot.parse_one(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(tree, exp.Create)
    created = tree.find(exp.Table)
    assert created is not None and created.name == file.name
    assert to_duckdb(sql)


@pytest.mark.parametrize("position", range(len(FILES)), ids=lambda i: FILES[i].name)
def test_views_read_only_relations_created_before_them(position: int) -> None:
    file = FILES[position]
    tree = sqlglot.parse_one(file.sql, read="bigquery")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    relations = {f.name for f in FILES}
    created = {f.name for f in FILES[:position]}
    read = {t.name for t in tree.find_all(exp.Table) if t.name != file.name and t.name not in ctes}
    assert read <= relations, f"{file.name} reads unknown relations {read - relations}"
    assert read <= created, f"{file.name} reads {read - created} before they exist"


def test_google_ads_roas_knows_the_currency_exponents() -> None:
    sql = next(f.sql for f in FILES if f.name == "rpt_google_ads")
    found: dict[str, int] = {}
    for codes, factor in re.findall(r"in \(([^)]*)\)\s*then (\d+)", sql):
        exponent = 6 - len(factor) + 1  # 10^(6 - exponent) micros per minor unit
        found.update(dict.fromkeys(re.findall(r"'([A-Z]{3})'", codes), exponent))
    assert found == EXPONENTS
    assert "else 10000" in sql  # every other currency: exponent 2


def test_every_sql_file_passes_sqlfluff_for_bigquery() -> None:
    """The repository's .sqlfluff (BigQuery dialect, lower case, 100 columns) holds for
    every file, the headline queries too; a violation names the file, line and rule."""
    from sqlfluff.core import FluffConfig, Linter

    repo = Path(__file__).resolve().parents[2]
    config = FluffConfig.from_path(str(repo))
    assert config.get("dialect") == "bigquery"
    records = Linter(config=config).lint_paths((str(sql_root()),)).as_records()
    problems = [
        f"{record['filepath']}:{violation['start_line_no']} {violation['code']} "
        f"{violation['description']}"
        for record in records
        for violation in record["violations"]
    ]
    assert len(records) == len(FILES) + len(headline_defs())
    assert problems == []
