"""Delivering every event twice and out of order leaves read models and facts exactly
as a clean, in-order run leaves them."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mymedic.adapters.local.documents import SqliteDocumentStore
from mymedic.adapters.local.warehouse import DuckDbWarehouse
from mymedic.app.calendar import CalendarProjection
from mymedic.app.facts import WarehouseFactsProjection
from mymedic.app.projections import ProjectionRunner
from mymedic.bootstrap import Platform
from mymedic.demo.generator import TENANTS
from mymedic.ports import DocumentStore, Warehouse
from tests.conftest import push_demo


def _documents(documents: DocumentStore) -> dict[str, Any]:
    return {
        (collection, spec.tenant_id): documents.query(collection, spec.tenant_id)
        for collection in CalendarProjection.collections
        for spec in TENANTS
    }


def _facts(warehouse: Warehouse) -> dict[str, Any]:
    return {table: warehouse.query(table) for table in WarehouseFactsProjection.tables}


def test_twice_and_shuffled_equals_clean(
    make_platform: Callable[..., Platform], tmp_path: Path
) -> None:
    clean = make_platform()
    push_demo(clean, seed=11, appointments=60)
    expected_docs, expected_facts = _documents(clean.documents), _facts(clean.warehouse)
    assert expected_facts["fct_appointment"], "the scenario must produce facts"
    assert any(docs for docs in expected_docs.values())

    events = [stored.envelope for stored in clean.store.read_all(0, 100_000)]
    deliveries = events + events
    random.Random(5).shuffle(deliveries)
    documents = SqliteDocumentStore(tmp_path / "again" / "read_models.sqlite")
    warehouse = DuckDbWarehouse(tmp_path / "again" / "warehouse.duckdb")
    warehouse.ensure_schema()
    calendar = ProjectionRunner(CalendarProjection(), documents, clean.store)
    facts = ProjectionRunner(WarehouseFactsProjection(), warehouse, clean.store)
    for event in deliveries:
        calendar(event)
        facts(event)
    # Most out-of-order deliveries were gaps filled from the store, the rest skipped.
    assert calendar.stats.caught_up > 0 and calendar.stats.skipped > 0
    assert _documents(documents) == expected_docs
    assert _facts(warehouse) == expected_facts
    documents.close()
    warehouse.close()


def test_rebuild_from_the_store_reproduces_everything(
    make_platform: Callable[..., Platform],
) -> None:
    platform = make_platform()
    push_demo(platform, seed=3, appointments=80)
    docs, facts = _documents(platform.documents), _facts(platform.warehouse)
    report = platform.rebuild_projections()
    assert report.events == platform.store.head_position()
    assert _documents(platform.documents) == docs
    assert _facts(platform.warehouse) == facts
