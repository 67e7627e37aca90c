"""The warehouse on BigQuery, running the BigQuery SQL of bigquery/ as written.

How a unit of work is written
-----------------------------
Like the DuckDB adapter, a unit of work keeps an identity map: rows are read once
(``prefetch`` is one parameterized query per table per batch), changed in memory, and
written at commit by one ``MERGE`` per table, keyed by the table's declared key. The
MERGEs of all tables, ``projection_checkpoints`` included, run in ONE multi-statement
transaction (``begin transaction; merge ...; merge ...; commit transaction;``), so the
facts and the checkpoints that guard them commit together or not at all: a redelivered
or replayed event finds its checkpoint and changes nothing (exactly once in effect).

Why MERGE in a transaction, not streaming inserts or the Storage Write API:

- Rows written by legacy streaming inserts sit in the streaming buffer, where DML cannot
  update or delete them for a while (up to about 30 minutes), so a fact could not be
  corrected by the next event, and ``insertId`` deduplication is best-effort (about a
  minute). Nothing here streams: every write is a query job, visible to DML at once.
- The Storage Write API's committed streams are exactly-once per stream offset, but
  append-only: an upsert by key would still need a staging table and a MERGE, and its
  commit would not be atomic with the checkpoints.
- The warehouse projection runs in large batches (catch-up), so one transaction per
  batch is a handful of jobs per thousands of events: few, big DML statements, as
  BigQuery's DML quotas and its per-table mutation queue want.

Where the rows travel: a staging table per batch
------------------------------------------------
The rows are typed ``ARRAY<STRUCT<...>>`` query parameters (types from the table's
schema), never SQL text. bqemulator binds query parameters only in single-statement
jobs, not in scripts, so the parameters are first written by one single-statement
``create table <stage> options(expiration_timestamp = ...) as select @rows_a as rows_a,
...`` job (one row, one array column per table chunk), and the transaction reads them
with ``unnest``. That is a query job too (no streaming buffer), the staging table is
dropped by the same script after the commit and expires after an hour if a crash leaves
it behind. A commit is therefore two jobs: the staging CTAS and the script.

Limits minded: a request (parameters included) may be 10 MB, so one staging job carries
at most ``_MAX_STAGE_BYTES`` of estimated parameters (more staging tables otherwise);
an array holds at most ``max_rows_per_merge`` rows (2,000), larger batches become
several MERGE statements into the same table inside the same transaction.

Concurrent writers: the script first checks, inside the transaction, that every
checkpoint the unit of work read and now moves is still at the version it read, and
fails with ``error()`` otherwise (not ``RAISE``, which bqemulator answers with HTTP
500); BigQuery itself aborts one of two transactions that mutate the same table at
once. Both are contention: the unit of work is run again on fresh reads, a few times,
then ``BigQueryContention`` (a ``TransientBackendError``).

Every API call carries ``timeout`` and a retry whose deadline is ``timeout``, so an
unreachable BigQuery fails fast with ``BigQueryUnavailable`` (a
``TransientBackendError``) instead of hanging. A commit whose answer is lost may still
have committed: the redelivered batch then finds its checkpoints moved and skips.

Table references: BigQuery ignores the default dataset inside a view body ("a reference
inside of a view must be qualified with a dataset"), and bqemulator does not apply it
to scripts with control flow, so every table and view name of bigquery/ is qualified
in place with ``project.dataset`` (only those identifiers change; the SQL is otherwise
run as written, never transpiled).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import uuid4

import sqlglot
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery import (
    ArrayQueryParameter,
    DatasetReference,
    QueryJobConfig,
    ScalarQueryParameter,
    StructQueryParameter,
)
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
    view_names,
)
from mymedic.ports import DateRange, Row, TransientBackendError
from mymedic.settings import Settings

T = TypeVar("T")
QueryParameter = ArrayQueryParameter | ScalarQueryParameter

_CHECKPOINTS = CHECKPOINTS
_STAGE_PREFIX = "_mymedic_stage_"
_STALE_MARKER = "mymedic-stale-checkpoint"
# A request may be 10 MB including its parameters; the estimate below is rough.
_MAX_STAGE_BYTES = 6_000_000
_MAX_KEYS_PER_PREFETCH = 10_000
# Runs of a unit of work that lost to a concurrent writer, and the pause between them.
_ATTEMPTS = 3
_BACKOFF_SECONDS = 0.2

# Legacy (REST schema) type names to the query-parameter type names.
_PARAMETER_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}

# A headline parameter's Python type to its query-parameter type.
_HEADLINE_TYPES: dict[type, str] = {str: "STRING", date: "DATE", bool: "BOOL"}

# Errors that mean "BigQuery could not be reached or did not answer in time". requests'
# and urllib3's connection errors and timeouts, and the client's wait timeout
# (concurrent.futures.TimeoutError is the builtin TimeoutError), are OSErrors.
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    api_exceptions.RetryError,
    api_exceptions.ServiceUnavailable,
    api_exceptions.InternalServerError,
    api_exceptions.BadGateway,
    api_exceptions.GatewayTimeout,
    api_exceptions.DeadlineExceeded,
    api_exceptions.TooManyRequests,
    auth_exceptions.TransportError,
    OSError,
)
# Job error reasons BigQuery documents as retryable.
_TRANSIENT_REASONS = frozenset(
    {"backendError", "internalError", "jobInternalError", "rateLimitExceeded", "badGateway"}
)


class BigQueryUnavailable(TransientBackendError):
    """BigQuery could not be reached, or did not answer within the timeout."""


class BigQueryContention(TransientBackendError):
    """Another writer kept changing the same checkpoints or tables: retry later."""


@dataclass(frozen=True)
class _Staged:
    """A parameter of a script, staged as a column of a staging table."""

    name: str
    parameter: QueryParameter
    size: int


def _reason(exc: api_exceptions.GoogleAPICallError) -> str | None:
    errors = exc.errors or []
    first = errors[0] if errors else None
    return first.get("reason") if isinstance(first, dict) else None


def _value_size(value: Any) -> int:
    return 4 if value is None else len(str(value))


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BigQueryUnitOfWork(KeyedRows):
    """Rows read once, changed in memory, written by one transaction at commit."""

    def __init__(self, warehouse: BigQueryWarehouse) -> None:
        super().__init__(warehouse.tables)
        self._warehouse = warehouse
        # The version of each checkpoint as read, to detect a concurrent writer.
        self._read_versions: dict[tuple[Any, ...], int | None] = {}

    def prefetch(self, table: str, keys: Iterable[tuple[Any, ...]]) -> None:
        cached = self._rows[table]
        wanted = list(dict.fromkeys(k for k in keys if k not in cached))
        for chunk in _chunks(wanted, _MAX_KEYS_PER_PREFETCH):
            for found in self._warehouse.read_keys(table, chunk):
                cached[self._key(table, found)] = found
            for key in chunk:
                row = cached.setdefault(key, None)
                if table == _CHECKPOINTS:
                    self._read_versions[key] = int(row["version"]) if row else None

    def commit(self) -> None:
        changes = {
            table: [row for key in keys if (row := self._rows[table][key]) is not None]
            for table, keys in self._dirty.items()
            if keys
        }
        # Checkpoints this unit read and moves must still be as read when it commits.
        expected = [
            (*key, self._read_versions[key])
            for key in self._dirty[_CHECKPOINTS]
            if key in self._read_versions
        ]
        self._warehouse.write(changes, expected)
        for keys in self._dirty.values():
            keys.clear()


class BigQueryWarehouse:
    def __init__(
        self,
        client: bigquery.Client,
        dataset: str,
        *,
        location: str | None = None,
        timeout: float = 10.0,
        max_rows_per_merge: int = 2000,
    ) -> None:
        self._client = client
        self._dataset = DatasetReference.from_string(dataset, default_project=client.project)
        self._prefix = f"{self._dataset.project}.{self._dataset.dataset_id}"
        self._location = location
        self._timeout = timeout
        self._retry = bigquery.DEFAULT_RETRY.with_deadline(timeout)
        self._max_rows = max_rows_per_merge
        self.tables = table_defs()
        # Column name -> query-parameter type, per table and view, from BigQuery's schema.
        self._schemas: dict[str, dict[str, str]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> BigQueryWarehouse:
        """A warehouse on ``MYMEDIC_BIGQUERY_DATASET``; on bqemulator when
        ``MYMEDIC_BIGQUERY_ENDPOINT`` is set (anonymous: the project must then be set)."""
        credentials: AnonymousCredentials | None = None
        options: ClientOptions | None = None
        if settings.bigquery_endpoint:
            if not settings.gcp_project:
                raise ValueError("MYMEDIC_GCP_PROJECT must be set with MYMEDIC_BIGQUERY_ENDPOINT")
            credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            options = ClientOptions(api_endpoint=settings.bigquery_endpoint)
        client = bigquery.Client(
            project=settings.gcp_project,
            credentials=credentials,
            client_options=options,
            location=settings.bigquery_location,
        )
        return cls(
            client,
            settings.bigquery_dataset,
            location=settings.bigquery_location,
            timeout=settings.gcp_timeout_seconds,
        )

    # --- the Warehouse port -------------------------------------------------------------

    def ensure_schema(self) -> None:
        dataset = bigquery.Dataset(self._dataset)
        if self._location:
            dataset.location = self._location
        self._api(
            lambda: self._client.create_dataset(
                dataset, exists_ok=True, retry=self._retry, timeout=self._timeout
            )
        )
        files = sql_files()
        relations = {file.name for file in files}
        for file in files:
            self._run(qualify_names(file.sql, relations, self._prefix))
        self._schemas.clear()
        for name in self.tables:
            self._columns(name)

    def transact(self, work: Callable[[BigQueryUnitOfWork], T]) -> T:
        for name in self.tables:
            self._columns(name)
        for attempt in range(1, _ATTEMPTS + 1):
            uow = BigQueryUnitOfWork(self)
            result = work(uow)
            try:
                uow.commit()
            except BigQueryContention:
                if attempt == _ATTEMPTS:
                    raise
                time.sleep(_BACKOFF_SECONDS * attempt)
                continue
            return result
        raise AssertionError("unreachable")

    def query(
        self,
        sql_name: str,
        params: dict[str, Any] | None = None,
        *,
        between: DateRange | None = None,
    ) -> list[Row]:
        self._known(sql_name)
        columns = self._columns(sql_name)
        filters = params or {}
        unknown = (set(filters) | ({between.column} if between else set())) - set(columns)
        if unknown:
            raise KeyError(f"{sql_name} has no column {sorted(unknown)}")
        names = list(filters)
        conditions = [f"{name} = @f{i}" for i, name in enumerate(names)]
        parameters: list[QueryParameter] = [
            ScalarQueryParameter(f"f{i}", columns[name], filters[name])
            for i, name in enumerate(names)
        ]
        if between is not None:
            kind = columns[between.column]
            conditions.append(f"{between.column} between @range_start and @range_end")
            parameters += [
                ScalarQueryParameter("range_start", kind, between.start),
                ScalarQueryParameter("range_end", kind, between.end),
            ]
        where = " and ".join(conditions) or "true"
        # A table's key is unique: ordering by it is as deterministic as by every column,
        # and much cheaper on wide results.
        order = ", ".join(self.tables[sql_name].key if sql_name in self.tables else columns)
        return self._run(
            f"select * from {self._qualified(sql_name)} where {where} order by {order}",
            parameters,
        )

    def columns(self, sql_name: str) -> list[str]:
        self._known(sql_name)
        return list(self._columns(sql_name))

    def _known(self, sql_name: str) -> None:
        views = view_names() | set(self.tables)
        if sql_name not in views:
            raise KeyError(f"no warehouse view or table named {sql_name}")

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
        relations = set(self.tables) | set(view_names())
        return headline_order(
            headline,
            self._run(
                qualify_names(headline.sql, relations, self._prefix),
                [
                    ScalarQueryParameter(name, _HEADLINE_TYPES[type(value)], value)
                    for name, value in values.items()
                ],
            ),
        )

    def fact_tenants(self) -> list[str]:
        rows = self._run(qualify_names(fact_tenants_sql(), set(self.tables), self._prefix), [])
        return [str(row["tenant_id"]) for row in rows]

    def facts_version(self, tenant_id: str) -> int:
        rows = self._run(
            qualify_names(facts_version_sql("@tenant_id"), set(self.tables), self._prefix),
            [ScalarQueryParameter("tenant_id", "STRING", tenant_id)],
        )
        return int(rows[0]["facts_version"]) if rows else 0

    def refresh_materialized(self, view: str, tenant_id: str, refreshed_at: datetime) -> None:
        # Scripts bind no query parameters on bqemulator: the values travel through a
        # staging table, as in every transaction here.
        staged = [
            _Staged("tenant_id", ScalarQueryParameter("tenant_id", "STRING", tenant_id), 64),
            _Staged(
                "refreshed_at", ScalarQueryParameter("refreshed_at", "TIMESTAMP", refreshed_at), 8
            ),
        ]
        relations = set(self.tables) | set(view_names())

        def statements(stage: dict[str, str]) -> list[str]:
            tenant = f"(select s.tenant_id from {stage['tenant_id']} as s)"
            refreshed = f"(select s.refreshed_at from {stage['refreshed_at']} as s)"
            sql = refresh_sql(view, tenant, refreshed)
            return [qualify_names(statement, relations, self._prefix) for statement in sql]

        self._transaction(staged, statements)

    def reset_projection(self, projection: str, tables: Iterable[str]) -> None:
        names = list(tables)
        for table in names:
            if table not in self.tables:
                raise KeyError(table)
        staged = _Staged(
            "projection",
            ScalarQueryParameter("projection", "STRING", projection),
            _value_size(projection),
        )

        def statements(stage: dict[str, str]) -> list[str]:
            return [
                f"delete from {self._qualified(_CHECKPOINTS)} where projection ="
                f" (select s.projection from {stage['projection']} as s);",
                *(f"delete from {self._qualified(table)} where true;" for table in names),
            ]

        self._transaction([staged], statements)

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]

    # --- used by the unit of work -------------------------------------------------------

    def read_keys(self, table: str, keys: Sequence[tuple[Any, ...]]) -> list[Row]:
        """The rows of ``table`` with these keys, in one parameterized query."""
        key_columns = self.tables[table].key
        types = self._columns(table)
        values = [
            StructQueryParameter(
                None,
                *(
                    ScalarQueryParameter(c, types[c], v)
                    for c, v in zip(key_columns, key, strict=True)
                ),
            )
            for key in keys
        ]
        # bqemulator unnests a struct array only with its fields selected by name.
        fields = ", ".join(f"k.{c} as {c}" for c in key_columns)
        join = " and ".join(f"t.{c} = k.{c}" for c in key_columns)
        return self._run(
            f"select t.* from {self._qualified(table)} as t"
            f" join (select {fields} from unnest(@keys) as k) as k on {join}",
            [ArrayQueryParameter("keys", "STRUCT", values)],
        )

    def write(self, changes: dict[str, list[Row]], expected: Sequence[tuple[Any, ...]]) -> None:
        """Upsert ``changes`` (rows by table) in one transaction, if every checkpoint in
        ``expected`` (projection, tenant, stream, version read or None) is unchanged."""
        if not changes:
            return
        staged: list[_Staged] = []
        merges: list[tuple[TableDef, str]] = []
        for table in sorted(changes):
            columns = self._columns(table)
            for index, chunk in enumerate(_chunks(changes[table], self._max_rows)):
                name = f"rows_{table}_{index}"
                staged.append(_struct_array(name, columns, chunk))
                merges.append((self.tables[table], name))
        if expected:
            checkpoint_types = self._columns(_CHECKPOINTS)
            staged.append(
                _struct_array(
                    "expected",
                    checkpoint_types,
                    [
                        dict(
                            zip(("projection", "tenant_id", "stream_id", "version"), e, strict=True)
                        )
                        for e in expected
                    ],
                )
            )

        def statements(stage: dict[str, str]) -> list[str]:
            body = [self._guard(stage["expected"])] if expected else []
            for table, name in merges:
                fields = ", ".join(f"r.{c} as {c}" for c in table.columns)
                source = f"(select {fields} from {stage[name]} as s, unnest(s.{name}) as r)"
                target = replace(table, name=self._qualified(table.name))
                body.append(merge_sql(target, source) + ";")
            return body

        self._transaction(staged, statements)

    # --- internals ----------------------------------------------------------------------

    def _guard(self, stage: str) -> str:
        checkpoints = self._qualified(_CHECKPOINTS)
        return (
            "select if(exists("
            " select 1 from (select e.projection as projection, e.tenant_id as tenant_id,"
            " e.stream_id as stream_id, e.version as version"
            f" from {stage} as s, unnest(s.expected) as e) as e"
            f" left join {checkpoints} as t on t.projection = e.projection"
            " and t.tenant_id = e.tenant_id and t.stream_id = e.stream_id"
            " where t.version is distinct from e.version),"
            f" error('{_STALE_MARKER}: a checkpoint moved since it was read'), 0);"
        )

    def _transaction(
        self, staged: Sequence[_Staged], statements: Callable[[dict[str, str]], list[str]]
    ) -> None:
        """Stage the parameters, then run ``statements`` as one transaction in one script
        that drops the staging tables after the commit."""
        groups: list[list[_Staged]] = [[]]
        size = 0
        for item in staged:
            if groups[-1] and size + item.size > _MAX_STAGE_BYTES:
                groups.append([])
                size = 0
            groups[-1].append(item)
            size += item.size
        stages: dict[str, str] = {}
        created: list[str] = []
        try:
            for group in groups:
                if not group:
                    continue
                table = self._qualified(f"{_STAGE_PREFIX}{uuid4().hex}")
                columns = ", ".join(f"@{item.name} as {item.name}" for item in group)
                created.append(table)
                self._run(
                    f"create table {table} options(expiration_timestamp ="
                    f" timestamp_add(current_timestamp(), interval 1 hour)) as select {columns}",
                    [item.parameter for item in group],
                )
                stages.update({item.name: table for item in group})
            script = [
                "begin transaction;",
                *statements(stages),
                "commit transaction;",
                *(f"drop table if exists {table};" for table in created),
            ]
            self._run("\n".join(script))
        except (BigQueryContention, api_exceptions.GoogleAPICallError):
            # The transaction rolled back; the staging tables would expire anyway.
            for table in created:
                with contextlib.suppress(api_exceptions.GoogleAPIError, OSError):
                    self._client.delete_table(
                        table.strip("`"),
                        not_found_ok=True,
                        retry=self._retry,
                        timeout=self._timeout,
                    )
            raise

    def _qualified(self, name: str) -> str:
        return f"`{self._prefix}.{name}`"

    def _columns(self, name: str) -> dict[str, str]:
        """Column name -> query-parameter type, in the relation's column order."""
        if name not in self._schemas:
            table = self._api(
                lambda: self._client.get_table(
                    f"{self._prefix}.{name}", retry=self._retry, timeout=self._timeout
                )
            )
            self._schemas[name] = {
                field.name: _PARAMETER_TYPES.get(field.field_type, field.field_type)
                for field in table.schema
            }
        return self._schemas[name]

    def _run(self, sql: str, parameters: Sequence[QueryParameter] = ()) -> list[Row]:
        config = QueryJobConfig(default_dataset=self._dataset, query_parameters=list(parameters))

        def call() -> list[Row]:
            job = self._client.query(
                sql,
                job_config=config,
                location=self._location,
                retry=self._retry,
                timeout=self._timeout,
                job_retry=None,
            )
            rows = job.result(retry=self._retry, timeout=self._timeout, job_retry=None)
            return [dict(row.items()) for row in rows]

        return self._api(call)

    def _api(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except api_exceptions.GoogleAPICallError as exc:
            message = str(exc)
            if _STALE_MARKER in message or "concurrent update" in message.lower():
                raise BigQueryContention(message) from exc
            if isinstance(exc, _TRANSIENT_TYPES) or _reason(exc) in _TRANSIENT_REASONS:
                raise BigQueryUnavailable(f"BigQuery failed transiently: {exc}") from exc
            raise
        except _TRANSIENT_TYPES as exc:
            raise BigQueryUnavailable(f"BigQuery did not answer: {exc}") from exc


def _struct_array(name: str, columns: dict[str, str], rows: Sequence[Row]) -> _Staged:
    """``rows`` (at least one) as an ARRAY<STRUCT<...>> parameter typed by ``columns``:
    every field of every element carries its type, nulls included."""
    if not rows:
        raise ValueError(f"{name}: an array parameter needs at least one row")
    values = [
        StructQueryParameter(
            None,
            *(ScalarQueryParameter(c, kind, row.get(c)) for c, kind in columns.items()),
        )
        for row in rows
    ]
    size = sum(sum(len(c) + _value_size(row.get(c)) + 16 for c in columns) + 24 for row in rows)
    return _Staged(name, ArrayQueryParameter(name, "STRUCT", values), size)


def qualify_names(sql: str, relations: set[str], prefix: str) -> str:
    """``sql`` with every unqualified reference to one of ``relations`` written as
    `` `prefix.name` ``, in place: nothing else in the text changes."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    spans: list[tuple[int, int, str]] = []
    for table in tree.find_all(exp.Table):
        identifier = table.this
        name = table.name
        if table.db or table.catalog or name not in relations or name in ctes:
            continue
        span = (None, None)
        if isinstance(identifier, exp.Identifier) and not identifier.quoted:
            span = (identifier.meta.get("start"), identifier.meta.get("end"))
        start, end = span
        if start is None or end is None or sql[start : end + 1] != name:
            # BigQuery would reject the view (or write to the default dataset): say so.
            raise ValueError(f"cannot qualify the reference to {name} in: {sql[:80]}")
        spans.append((start, end + 1, name))
    for start, end, name in sorted(spans, reverse=True):
        sql = f"{sql[:start]}`{prefix}.{name}`{sql[end:]}"
    return sql


def from_settings(settings: Settings) -> BigQueryWarehouse:
    """A warehouse on the dataset the settings name (see ``BigQueryWarehouse.from_settings``)."""
    return BigQueryWarehouse.from_settings(settings)
