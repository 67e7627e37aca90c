"""The warehouse on DuckDB, running the BigQuery SQL of bigquery/ through sqlglot."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from mymedic.adapters.keyed_rows import CHECKPOINTS, KeyedRows
from mymedic.adapters.sql_catalog import (
    TableDef,
    fact_tenants_sql,
    facts_version_sql,
    headline_defs,
    headline_order,
    headline_parameters,
    merge_sql,
    refresh_sql,
    sql_files,
    table_defs,
    to_duckdb,
    view_names,
)
from mymedic.ports import DateRange, Row

_CHECKPOINTS = CHECKPOINTS
T = TypeVar("T")

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
}


class DuckDbUnitOfWork(KeyedRows):
    """Rows read once, changed in memory, written back by one MERGE per table at commit."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        tables: dict[str, TableDef],
        schemas: dict[str, pa.Schema],
    ) -> None:
        super().__init__(tables)
        self._conn = conn
        self._schemas = schemas

    def prefetch(self, table: str, keys: Iterable[tuple[Any, ...]]) -> None:
        cached = self._rows[table]
        wanted = list({k for k in keys if k not in cached})
        if not wanted:
            return
        key_columns = self._tables[table].key
        probe = pa.Table.from_arrays(
            [pa.array([k[i] for k in wanted], pa.string()) for i in range(len(key_columns))],
            names=list(key_columns),
        )
        self._conn.register("_probe", probe)
        try:
            join = " and ".join(f"t.{c} = p.{c}" for c in key_columns)
            result = self._conn.execute(f"select t.* from {table} t join _probe p on {join}")
            names = [d[0] for d in result.description or ()]
            for values in result.fetchall():
                row = dict(zip(names, values, strict=True))
                cached[self._key(table, row)] = row
        finally:
            self._conn.unregister("_probe")
        for key in wanted:
            cached.setdefault(key, None)

    def flush(self) -> None:
        for table, keys in self._dirty.items():
            if not keys:
                continue
            rows = [self._rows[table][k] for k in keys]
            staged = pa.Table.from_pylist(rows, schema=self._schemas[table])
            self._conn.register("_stage", staged)
            try:
                self._conn.execute(_duckdb_merge(self._tables[table]))
            finally:
                self._conn.unregister("_stage")
            keys.clear()


_MERGES: dict[str, str] = {}
# Each headline query in DuckDB's SQL, translated once.
_HEADLINE_SQL: dict[str, str] = {}


def _duckdb_merge(table: TableDef) -> str:
    if table.name not in _MERGES:
        _MERGES[table.name] = to_duckdb(merge_sql(table, "_stage"))
    return _MERGES[table.name]


class DuckDbWarehouse:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = duckdb.connect(str(path))
        self._conn.execute("set TimeZone = 'UTC'")
        self._lock = threading.RLock()
        self._tables = table_defs()
        self._schemas: dict[str, pa.Schema] = {}

    def ensure_schema(self) -> None:
        """Create what is missing: the tables, then columns added to a table's DDL since
        the file was made (nullable ones; a new ``not null`` column needs a rebuild),
        then every view anew."""
        with self._lock:
            files = sql_files()
            for file in files:
                if file.layer == "tables":
                    self._conn.execute(to_duckdb(file.sql))
            self._add_new_columns()
            for file in files:
                if file.layer != "tables":
                    self._conn.execute(to_duckdb(file.sql))
            for name in self._tables:
                columns = self._conn.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                self._schemas[name] = pa.schema([(c, _ARROW_TYPES[t]) for c, t in columns])

    def _add_new_columns(self) -> None:
        for name, table in self._tables.items():
            present = {
                row[0]
                for row in self._conn.execute(
                    "select column_name from information_schema.columns where table_name = ?",
                    [name],
                ).fetchall()
            }
            for column, kind in zip(table.columns, table.types, strict=True):
                if column in present:
                    continue
                if column in table.required:
                    raise RuntimeError(
                        f"{name}.{column} is new and not null: rebuild the warehouse "
                        "(remove the DuckDB file, then `mymedic replay`)"
                    )
                duck = exp.DataType.build(kind, dialect="bigquery").sql("duckdb")
                self._conn.execute(f"alter table {name} add column {column} {duck}")

    def transact(self, work: Callable[[DuckDbUnitOfWork], T]) -> T:
        with self._lock:
            if not self._schemas:
                self.ensure_schema()
            self._conn.begin()
            try:
                uow = DuckDbUnitOfWork(self._conn, self._tables, self._schemas)
                result = work(uow)
                uow.flush()
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.commit()
            return result

    def query(
        self,
        sql_name: str,
        params: dict[str, Any] | None = None,
        *,
        between: DateRange | None = None,
    ) -> list[Row]:
        columns = self.columns(sql_name)
        sql, values = self.select_sql(sql_name, params, between=between)
        with self._lock:
            result = self._conn.execute(sql, values)
            return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]

    def select_sql(
        self,
        sql_name: str,
        params: dict[str, Any] | None = None,
        *,
        between: DateRange | None = None,
    ) -> tuple[str, list[Any]]:
        """The statement ``query`` runs, and its parameters."""
        columns = self.columns(sql_name)
        filters = params or {}
        unknown = (set(filters) | ({between.column} if between else set())) - set(columns)
        if unknown:
            raise KeyError(f"{sql_name} has no column {sorted(unknown)}")
        conditions = [f"{name} = ?" for name in filters]
        values = list(filters.values())
        if between is not None:
            conditions.append(f"{between.column} between ? and ?")
            values += [between.start, between.end]
        where = " and ".join(conditions) or "true"
        # A table's key is unique: ordering by it is as deterministic as by every column,
        # and much cheaper on wide results.
        order = ", ".join(self._tables[sql_name].key if sql_name in self._tables else columns)
        return f"select * from {sql_name} where {where} order by {order}", values

    def columns(self, sql_name: str) -> list[str]:
        views = view_names() | set(self._tables)
        if sql_name not in views:
            raise KeyError(f"no warehouse view or table named {sql_name}")
        with self._lock:
            return [
                r[0]
                for r in self._conn.execute(
                    "select column_name from information_schema.columns where table_name = ?"
                    " order by ordinal_position",
                    [sql_name],
                ).fetchall()
            ]

    def headline(
        self,
        view: str,
        tenant_id: str,
        start: date,
        end: date,
        *,
        branches: Sequence[str] | None = None,
        by: Sequence[str] = (),
    ) -> list[Row]:
        defs = headline_defs()
        if view not in defs:
            raise KeyError(f"no headline figures for {view}")
        headline = defs[view]
        values = headline_parameters(headline, tenant_id, start, end, branches=branches, by=by)
        if headline.view not in _HEADLINE_SQL:
            _HEADLINE_SQL[headline.view] = to_duckdb(headline.sql)
        with self._lock:
            result = self._conn.execute(_HEADLINE_SQL[headline.view], values)
            names = [d[0] for d in result.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        return headline_order(headline, rows)

    def fact_tenants(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute(to_duckdb(fact_tenants_sql())).fetchall()
        return [str(row[0]) for row in rows]

    def facts_version(self, tenant_id: str) -> int:
        with self._lock:
            row = self._conn.execute(
                to_duckdb(facts_version_sql("@tenant_id")), {"tenant_id": tenant_id}
            ).fetchone()
        return int(row[0]) if row else 0

    def refresh_materialized(self, view: str, tenant_id: str, refreshed_at: datetime) -> None:
        params = {"tenant_id": tenant_id, "refreshed_at": refreshed_at}
        statements = [to_duckdb(sql) for sql in refresh_sql(view, "@tenant_id", "@refreshed_at")]
        with self._lock:
            self._conn.begin()
            try:
                for sql in statements:
                    used = {name: value for name, value in params.items() if f"${name}" in sql}
                    self._conn.execute(sql, used)
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.commit()

    def reset_projection(self, projection: str, tables: Iterable[str]) -> None:
        with self._lock:
            self._conn.begin()
            try:
                self._conn.execute(f"delete from {_CHECKPOINTS} where projection = ?", [projection])
                for table in tables:
                    if table not in self._tables:
                        raise KeyError(table)
                    self._conn.execute(f"delete from {table}")
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.commit()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
