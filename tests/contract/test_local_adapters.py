from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mymedic.adapters.local.bus import DeliveryFailed, InProcessBus
from mymedic.adapters.local.documents import SqliteDocumentStore
from mymedic.adapters.local.warehouse import DuckDbWarehouse
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import DocumentStore, Warehouse
from tests.contract.documents_contract import DocumentStoreContract
from tests.contract.events import appointment_events
from tests.contract.warehouse_contract import WarehouseContract


class TestSqliteDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self, tmp_path: Path) -> Iterator[DocumentStore]:
        store = SqliteDocumentStore(tmp_path / "read_models.sqlite")
        yield store
        store.close()


class TestDuckDbWarehouse(WarehouseContract):
    @pytest.fixture
    def warehouse(self, tmp_path: Path) -> Iterator[Warehouse]:
        instance = DuckDbWarehouse(tmp_path / "warehouse.duckdb")
        instance.ensure_schema()
        yield instance
        instance.close()


def test_schema_creation_is_repeatable(tmp_path: Path) -> None:
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb")
    warehouse.ensure_schema()
    warehouse.ensure_schema()
    assert warehouse.query("fct_appointment") == []
    warehouse.close()


def test_a_warehouse_made_before_a_column_was_added_gains_it(tmp_path: Path) -> None:
    """A column added to a table's DDL (hist_room.equipment) reaches an existing file:
    no rebuild for a nullable column, and the views that read it are created."""
    import duckdb

    path = tmp_path / "old.duckdb"
    DuckDbWarehouse(path).ensure_schema()
    with duckdb.connect(str(path)) as old:
        old.execute("drop view dim_room")
        old.execute("alter table hist_room drop column equipment")
        # The view as it was before: it read no equipment.
        old.execute("create view dim_room as select tenant_id, room_id from hist_room")
    upgraded = DuckDbWarehouse(path)
    upgraded.ensure_schema()
    assert "equipment" in upgraded.columns("hist_room")
    assert "equipment" in upgraded.columns("dim_room")
    upgraded.close()
    with duckdb.connect(str(path)) as old:
        old.execute("drop view dim_room")
        old.execute("alter table hist_room drop column room_id")  # a not-null one
    with pytest.raises(RuntimeError, match=r"hist_room\.room_id is new and not null"):
        DuckDbWarehouse(path).ensure_schema()


def test_bus_delivers_to_every_subscriber_even_when_one_fails() -> None:
    bus = InProcessBus()
    seen: list[str] = []

    def broken(event: EventEnvelope) -> None:
        raise RuntimeError("disk full")

    bus.subscribe("first", lambda event: seen.append(f"first:{event.stream_version}"))
    bus.subscribe("broken", broken)
    bus.subscribe("last", lambda event: seen.append(f"last:{event.stream_version}"))
    event = appointment_events()[0]
    with pytest.raises(DeliveryFailed, match="broken: RuntimeError: disk full"):
        bus.publish(event)
    assert seen == ["first:1", "last:1"]
