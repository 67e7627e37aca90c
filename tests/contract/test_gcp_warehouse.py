"""The BigQuery warehouse on bqemulator: the warehouse contract, plus what BigQuery adds
(facts equal to DuckDB's, batches split into several MERGEs, concurrent writers, and an
unreachable endpoint failing fast with a transient error)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlglot
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from sqlglot import exp

from mymedic.adapters.gcp.bigquery_warehouse import (
    BigQueryUnavailable,
    BigQueryUnitOfWork,
    BigQueryWarehouse,
    from_settings,
    qualify_names,
)
from mymedic.adapters.local.event_store import SqliteEventStore
from mymedic.adapters.local.warehouse import DuckDbWarehouse
from mymedic.adapters.sql_catalog import sql_files
from mymedic.app.facts import WarehouseFactsProjection
from mymedic.app.projections import ProjectionRunner
from mymedic.app.replay import replay
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.domain.types import Channel
from mymedic.emulators import free_port
from mymedic.ports import Row, TransientBackendError, Warehouse
from mymedic.settings import Settings
from tests.contract.events import T0, appointment_events
from tests.contract.warehouse_contract import WarehouseContract, patient_row

pytestmark = pytest.mark.emulator

PROJECT = "mymedic-test"


def _settings(dataset: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, gcp_project=PROJECT, bigquery_dataset=dataset, **overrides)


@pytest.fixture(scope="module")
def admin(bigquery_emulator: Any) -> Iterator[bigquery.Client]:
    """A client of the test's own, to look behind the adapter and drop datasets."""
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=os.environ["MYMEDIC_BIGQUERY_ENDPOINT"]),
    )
    yield client
    client.close()  # type: ignore[no-untyped-call]


@pytest.fixture
def dataset(admin: bigquery.Client) -> Iterator[str]:
    name = f"t_{uuid4().hex}"
    yield name
    admin.delete_dataset(f"{PROJECT}.{name}", delete_contents=True, not_found_ok=True)


@pytest.fixture
def bq(dataset: str) -> Iterator[BigQueryWarehouse]:
    warehouse = from_settings(_settings(dataset))
    warehouse.ensure_schema()
    yield warehouse
    warehouse.close()


class TestBigQueryWarehouse(WarehouseContract):
    @pytest.fixture
    def warehouse(self, bq: BigQueryWarehouse) -> Warehouse:
        return bq


def test_schema_creation_is_repeatable(bq: BigQueryWarehouse) -> None:
    bq.ensure_schema()
    assert bq.query("fct_appointment") == []


def test_the_sql_names_every_table_and_view_with_its_dataset() -> None:
    """BigQuery ignores the default dataset inside a view body (bqemulator does not), so
    each reference is qualified in place, and nothing else in the SQL changes."""
    files = sql_files()
    relations = {file.name for file in files}
    for file in files:
        qualified = qualify_names(file.sql, relations, "p.d")
        for name in relations:
            qualified = qualified.replace(f"`p.d.{name}`", name)
        assert qualified == file.sql
        tree = sqlglot.parse_one(qualify_names(file.sql, relations, "p.d"), read="bigquery")
        referenced = [t for t in tree.find_all(exp.Table) if t.name in relations]
        assert referenced and all(t.catalog == "p" and t.db == "d" for t in referenced)


# --- the facts projection: BigQuery and DuckDB give the same rows ------------------------


def _patient_registered(patient_id: str, tenant_id: str) -> EventEnvelope:
    return build_envelope(
        e.PatientRegistered(
            patient_id=patient_id, home_branch_id="b1", sex="female", channel=Channel.PORTAL
        ),
        metadata=Metadata(tenant_id=tenant_id, actor="test", source="contract"),
        branch_id="b1",
        stream_version=1,
        occurred_at=T0,
        recorded_at=T0,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEventStore]:
    instance = SqliteEventStore(tmp_path / "events.sqlite")
    streams = [
        [_patient_registered("p1", "t1")],
        [_patient_registered("p1", "t2")],
        appointment_events("a1", "t1"),
        appointment_events("a2", "t1", "b2")[:2],  # booked and rescheduled: still booked
        appointment_events("a3", "t2"),
    ]
    for stream in streams:
        instance.append(stream[0].tenant_id, stream[0].stream_id, 0, stream)
    yield instance
    instance.close()


def _snapshot(warehouse: Warehouse) -> dict[str, list[Row]]:
    names = ("fct_appointment", "dim_patient", "projection_checkpoints", "rpt_patient_volume")
    return {name: warehouse.query(name) for name in names}


def test_facts_over_bigquery_equal_facts_over_duckdb(
    bq: BigQueryWarehouse, store: SqliteEventStore, tmp_path: Path
) -> None:
    duck = DuckDbWarehouse(tmp_path / "warehouse.duckdb")
    duck.ensure_schema()
    over_duck = ProjectionRunner(WarehouseFactsProjection(), duck, store)
    over_bq = ProjectionRunner(WarehouseFactsProjection(), bq, store)

    # Small batches, so that streams and checkpoints straddle units of work.
    assert replay(store, [over_duck], batch_size=4).events == 10
    assert replay(store, [over_bq], batch_size=4).events == 10
    expected = _snapshot(duck)
    duck.close()
    assert expected["fct_appointment"][0]["start_at"].tzinfo is not None
    assert _snapshot(bq) == expected
    assert [r["status"] for r in expected["fct_appointment"]] == [
        "completed",
        "booked",
        "completed",
    ]

    # Redelivered: recognised by the checkpoints, nothing changes.
    over_bq.handle_batch([stored.envelope for stored in store.read_all(0)])
    assert over_bq.stats.skipped == 10
    assert _snapshot(bq) == expected


# --- big batches ------------------------------------------------------------------------


def test_a_batch_above_the_split_bound_is_written_whole(
    bq: BigQueryWarehouse, admin: bigquery.Client, dataset: str
) -> None:
    count = 2050  # above the 2,000 rows of one MERGE: two MERGEs in one transaction
    keys = [("t1", f"p{i:05}") for i in range(count)]

    def insert(uow: BigQueryUnitOfWork) -> None:
        for _, patient_id in keys:
            uow.put_row("dim_patient", patient_row(patient_id))
        uow.set_checkpoint("facts", "t1", "bulk", 1)

    bq.transact(insert)
    # One script: two MERGEs into dim_patient and one into the checkpoints, in one
    # transaction (bqemulator records the script as it parsed it, in upper case).
    script = next(
        text
        for job in admin.list_jobs(max_results=20)
        if isinstance(job, bigquery.QueryJob)
        and (text := job.query.lower()).startswith("begin transaction;")
        and dataset in text
    )
    assert script.count(f"`{PROJECT}.{dataset}.dim_patient` as target") == 2
    assert script.count(" as target ") == 3
    assert script.count("commit transaction;") == 1

    def update(uow: BigQueryUnitOfWork) -> None:
        uow.prefetch("dim_patient", keys)
        for key in keys:
            row = uow.get_row("dim_patient", key)
            assert row is not None
            uow.put_row("dim_patient", {**row, "sex": "other"})
        uow.set_checkpoint("facts", "t1", "bulk", uow.checkpoint("facts", "t1", "bulk") + 1)

    bq.transact(update)
    rows = bq.query("dim_patient", {"tenant_id": "t1"})
    assert len(rows) == count
    assert {r["sex"] for r in rows} == {"other"}
    assert rows[-1]["patient_id"] == f"p{count - 1:05}"
    assert bq.transact(lambda uow: uow.checkpoint("facts", "t1", "bulk")) == 2
    # The staging tables were dropped with the commit.
    expected = sorted(f.name for f in sql_files())  # every table and view, no staging
    assert sorted(t.table_id for t in admin.list_tables(f"{PROJECT}.{dataset}")) == expected


# --- concurrent writers -------------------------------------------------------------------


def test_a_checkpoint_moved_by_another_writer_makes_the_unit_of_work_run_again(
    bq: BigQueryWarehouse, dataset: str
) -> None:
    other = from_settings(_settings(dataset))
    attempts: list[int] = []

    def advance(uow: BigQueryUnitOfWork) -> None:
        uow.set_checkpoint("facts", "t1", "s1", uow.checkpoint("facts", "t1", "s1") + 1)

    def slow_advance(uow: BigQueryUnitOfWork) -> None:
        seen = uow.checkpoint("facts", "t1", "s1")
        attempts.append(seen)
        if len(attempts) == 1:
            other.transact(advance)  # commits between this unit's read and its commit
        uow.put_row("dim_patient", patient_row(f"p{seen}"))
        uow.set_checkpoint("facts", "t1", "s1", seen + 1)

    bq.transact(slow_advance)
    other.close()
    assert attempts == [0, 1]
    assert bq.transact(lambda uow: uow.checkpoint("facts", "t1", "s1")) == 2
    # Only the retried attempt's row was written.
    assert [r["patient_id"] for r in bq.query("dim_patient")] == ["p1"]


# --- an unreachable BigQuery ----------------------------------------------------------


def test_an_unreachable_endpoint_fails_fast_with_a_transient_error() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    warehouse = BigQueryWarehouse.from_settings(
        _settings("unreachable", bigquery_endpoint=endpoint, gcp_timeout_seconds=1.0)
    )
    calls: list[Callable[[], object]] = [
        warehouse.ensure_schema,
        lambda: warehouse.query("dim_patient"),
        lambda: warehouse.transact(lambda uow: uow.checkpoint("facts", "t1", "s1")),
        lambda: warehouse.reset_projection("facts", ["dim_patient"]),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(TransientBackendError) as raised:
            call()
        assert isinstance(raised.value, BigQueryUnavailable)
        assert time.monotonic() - started < 5
    warehouse.close()


def test_an_emulator_endpoint_needs_a_project() -> None:
    settings = Settings(_env_file=None, bigquery_endpoint="http://127.0.0.1:9", gcp_project=None)
    with pytest.raises(ValueError, match="MYMEDIC_GCP_PROJECT"):
        from_settings(settings)


def test_timestamps_keep_microseconds_and_utc(bq: BigQueryWarehouse) -> None:
    at = datetime(2026, 1, 5, 4, 30, 12, 345678, tzinfo=UTC)

    def write(uow: BigQueryUnitOfWork) -> None:
        uow.put_row("dim_patient", {**patient_row("p1"), "registered_at": at})

    bq.transact(write)
    (row,) = bq.query("dim_patient", {"patient_id": "p1"})
    assert row["registered_at"] == at and row["registered_at"].utcoffset().total_seconds() == 0
