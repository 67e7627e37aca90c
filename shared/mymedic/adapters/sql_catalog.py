"""The warehouse SQL in bigquery/: table DDL, marts and report views, in BigQuery SQL.

Both warehouse adapters read their SQL from here: BigQuery runs it as written, DuckDB
through sqlglot. MERGE statements are generated from each table's key, stated once in
its DDL file as a ``-- key: col, col`` line (not as ``primary key ... not enforced``,
which BigQuery accepts but bqemulator and DuckDB do not).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

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
