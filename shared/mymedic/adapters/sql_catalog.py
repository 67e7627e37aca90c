"""The warehouse SQL in bigquery/: table DDL, marts and report views, in BigQuery SQL,
and the headline queries (bigquery/headlines/) that total a report over a date range.

Both warehouse adapters read their SQL from here: BigQuery runs it as written, DuckDB
through sqlglot. MERGE statements are generated from each table's key, stated once in
its DDL file as a ``-- key: col, col`` line (not as ``primary key ... not enforced``,
which BigQuery accepts but bqemulator and DuckDB do not).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

_KEY_LINE = re.compile(r"^-- key: (.+)$", re.MULTILINE)
CHECKPOINTS_TABLE = "projection_checkpoints"

LAYERS = ("tables", "marts", "reports")

# sqlglot logs a warning for every BigQuery-only table property (partitioning,
# clustering) it drops on the way to DuckDB; dropping them is intended.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


@dataclass(frozen=True)
class SqlFile:
    layer: str
    name: str
    sql: str


@dataclass(frozen=True)
class TableDef:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    # Each column's BigQuery type, as the DDL writes it (int64, string, ...).
    types: tuple[str, ...] = ()
    # The columns the DDL declares ``not null``.
    required: frozenset[str] = frozenset()


def sql_root() -> Path:
    """bigquery/ of the checkout, or the copy packaged as mymedic/sql in a wheel or bundle."""
    packaged = resources.files("mymedic") / "sql"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "bigquery"


@cache
def sql_files(root: Path | None = None) -> tuple[SqlFile, ...]:
    base = root or sql_root()
    found: list[SqlFile] = []
    for layer in LAYERS:
        for path in sorted((base / layer).glob("*.sql")):
            found.append(SqlFile(layer, path.stem, path.read_text(encoding="utf-8")))
    if not found:
        raise FileNotFoundError(f"no warehouse SQL under {base}")
    return tuple(found)


def view_names(root: Path | None = None) -> frozenset[str]:
    """The marts and reports: what a warehouse answers queries on, beside its tables."""
    return frozenset(f.name for f in sql_files(root) if f.layer in ("marts", "reports"))


@cache
def table_defs(root: Path | None = None) -> dict[str, TableDef]:
    defs: dict[str, TableDef] = {}
    for file in sql_files(root):
        if file.layer != "tables":
            continue
        create = sqlglot.parse_one(file.sql, read="bigquery")
        schema = create.this
        column_defs = [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]
        columns = tuple(c.name for c in column_defs)
        types = tuple(c.args["kind"].sql("bigquery").lower() for c in column_defs)
        required = frozenset(
            c.name
            for c in column_defs
            if any(
                isinstance(constraint.args.get("kind"), exp.NotNullColumnConstraint)
                for constraint in c.args.get("constraints") or []
            )
        )
        declared = _KEY_LINE.findall(file.sql)
        if len(declared) != 1:
            raise ValueError(f"{file.name}: state the table's key once, as `-- key: a, b`")
        key = tuple(name.strip() for name in declared[0].split(","))
        if not set(key) <= set(columns):
            raise ValueError(f"{file.name}: key {key} names unknown columns")
        defs[file.name] = TableDef(file.name, columns, key, types, required)
    return defs


def merge_sql(table: TableDef, source: str) -> str:
    """An upsert of ``source`` rows into ``table`` by its key, in BigQuery SQL."""
    on = " and ".join(f"target.{k} = source.{k}" for k in table.key)
    updates = ", ".join(f"{c} = source.{c}" for c in table.columns if c not in table.key)
    names = ", ".join(table.columns)
    values = ", ".join(f"source.{c}" for c in table.columns)
    return (
        f"merge {table.name} as target using {source} as source on {on} "
        f"when matched then update set {updates} "
        f"when not matched then insert ({names}) values ({values})"
    )


def to_duckdb(sql: str) -> str:
    return sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]


# Headline figures: bigquery/headlines/<view>.sql, a parameterized query per report view
# that has them (not a view: nothing is created), computing the report's totals over a
# whole date range at their own grain (see README "Headline figures").
HEADLINES = "headlines"
EVERY_BRANCH = "*"
_BY_LINE = re.compile(r"^-- by: (.+)$", re.MULTILINE)
_RANGE_PARAMETERS = frozenset({"tenant_id", "from_date", "to_date"})


@dataclass(frozen=True)
class HeadlineDef:
    """A headline query: the report view it totals, its SQL, the dimensions it may be
    grouped by (a ``by_<dimension>`` boolean parameter each), its result columns (every
    ``by`` dimension among them, null unless grouped by) and its parameters."""

    view: str
    sql: str
    by: tuple[str, ...]
    columns: tuple[str, ...]
    parameters: frozenset[str]

    @property
    def by_branch(self) -> bool:
        """Whether it takes a set of branches (its report has a branch per row)."""
        return "branches" in self.parameters

    @property
    def per_currency(self) -> bool:
        return "currency" in self.columns

    def columns_by(self, by: Sequence[str]) -> tuple[str, ...]:
        """Its columns when grouped by ``by``: the other dimensions (always null then)
        left out, so that nothing filters on them."""
        return tuple(c for c in self.columns if c not in self.by or c in by)


@cache
def headline_defs(root: Path | None = None) -> dict[str, HeadlineDef]:
    """Every headline query, by the report view it totals (its file's name)."""
    base = root or sql_root()
    defs: dict[str, HeadlineDef] = {}
    for path in sorted((base / HEADLINES).glob("*.sql")):
        defs[path.stem] = _headline_def(path.stem, path.read_text(encoding="utf-8"))
    return defs


def _headline_def(view: str, sql: str) -> HeadlineDef:
    declared = _BY_LINE.findall(sql)
    if len(declared) != 1:
        raise ValueError(f"headline {view}: state its dimensions once, as `-- by: a, b`")
    by = tuple(name.strip() for name in declared[0].split(","))
    tree = sqlglot.parse_one(sql, read="bigquery")
    parameters = frozenset(p.name for p in tree.find_all(exp.Parameter))
    wanted = _RANGE_PARAMETERS | {f"by_{name}" for name in by}
    if not wanted <= parameters or not parameters <= wanted | {"branches"}:
        raise ValueError(
            f"headline {view}: parameters {sorted(parameters)}; expected {sorted(wanted)}"
            " and maybe branches"
        )
    final = next((cte for cte in tree.find_all(exp.CTE) if cte.alias_or_name == "final"), None)
    if final is None or not isinstance(final.this, exp.Select) or final.this.is_star:
        raise ValueError(f"headline {view}: end with `select * from final`, columns named")
    columns = tuple(final.this.named_selects)
    if not set(by) <= set(columns):
        raise ValueError(f"headline {view}: a `by` dimension is not a column")
    return HeadlineDef(view, sql, by, columns, parameters)


def headline_parameters(
    headline: HeadlineDef,
    tenant_id: str,
    start: date,
    end: date,
    *,
    branches: Sequence[str] | None,
    by: Sequence[str],
) -> dict[str, Any]:
    """The values of the headline's parameters, by name: the tenant, the range, the
    branches (``*``: every branch) and a boolean per dimension it may be grouped by."""
    unknown = [name for name in by if name not in headline.by]
    if unknown:
        raise ValueError(
            f"headline {headline.view} is not grouped by {unknown}; only by {list(headline.by)}"
        )
    if end < start:
        raise ValueError(f"headline {headline.view}: {end} is before {start}")
    values: dict[str, Any] = {"tenant_id": tenant_id, "from_date": start, "to_date": end}
    values |= {f"by_{name}": name in by for name in headline.by}
    if branches is not None and EVERY_BRANCH not in branches:
        if not headline.by_branch:
            raise ValueError(f"{headline.view} has no branch: its headline covers every branch")
        bad = [b for b in branches if not b or "," in b]
        if bad or not branches:
            raise ValueError(f"headline {headline.view}: no such branch ids {list(branches)}")
        values["branches"] = ",".join(branches)
    elif headline.by_branch:
        values["branches"] = EVERY_BRANCH
    return values


def headline_order(headline: HeadlineDef, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows in the order of their dimensions and currency (nulls first)."""
    keys = [*headline.by, *(["currency"] if headline.per_currency else [])]
    return sorted(rows, key=lambda row: tuple((row[k] is not None, row[k] or "") for k in keys))


# Materialized reports: ``mat_<view>`` holds the view's rows per tenant, recomputed by
# ``refresh_sql`` (see mymedic.reports.materialize for when).
MATERIALIZED_PREFIX = "mat_"
REPORT_REFRESH = "report_refresh"
FACTS_PROJECTION = "warehouse_facts"


def materialized_table(view: str) -> str:
    return f"{MATERIALIZED_PREFIX}{view}"


def fact_tenants_sql() -> str:
    """The tenants with facts: those the facts projection has checkpoints for (but the
    runner's own position in the store, kept under tenant ``*``)."""
    return (
        f"select distinct tenant_id from {CHECKPOINTS_TABLE}"
        f" where projection = '{FACTS_PROJECTION}' and tenant_id != '*' order by tenant_id"
    )


def facts_version_sql(tenant_param: str) -> str:
    """The sum of a tenant's warehouse_facts checkpoint versions: it grows with every
    event the facts projection applies, so a change means the facts changed."""
    return (
        f"select coalesce(sum(version), 0) as facts_version from {CHECKPOINTS_TABLE}"
        f" where projection = '{FACTS_PROJECTION}' and tenant_id = {tenant_param}"
    )


def refresh_sql(view: str, tenant_param: str, refreshed_param: str) -> list[str]:
    """BigQuery statements (run in one transaction) that recompute ``mat_<view>`` for the
    tenant bound to ``tenant_param`` and record it in report_refresh, with the facts
    version read in the same transaction. Values are cast to the table's declared types
    (the view's NUMERIC cost, DuckDB's 128-bit sums)."""
    table = table_defs()[materialized_table(view)]
    names = ", ".join(table.columns)
    values = ", ".join(
        f"cast(v.{column} as {kind})"
        for column, kind in zip(table.columns, table.types, strict=True)
    )
    return [
        f"delete from {table.name} where tenant_id = {tenant_param};",
        f"insert into {table.name} ({names}) select {values} from {view} as v"
        f" where v.tenant_id = {tenant_param};",
        f"delete from {REPORT_REFRESH} where tenant_id = {tenant_param} and report = '{view}';",
        f"insert into {REPORT_REFRESH} (tenant_id, report, facts_version, refreshed_at)"
        f" select {tenant_param}, '{view}', f.facts_version, {refreshed_param}"
        f" from ({facts_version_sql(tenant_param)}) as f;",
    ]
