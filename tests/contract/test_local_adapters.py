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
