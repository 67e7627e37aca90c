"""On the gcp adapters too, delivering every event twice and out of order leaves the
Firestore read model and the BigQuery facts exactly as a clean, in-order run does."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from mymedic.adapters.gcp.bigquery_warehouse import BigQueryWarehouse
from mymedic.adapters.gcp.firestore_client import firestore_client
from mymedic.adapters.gcp.firestore_documents import FirestoreDocumentStore
from mymedic.app.calendar import CALENDAR, CalendarProjection
from mymedic.app.facts import WarehouseFactsProjection
from mymedic.app.projections import ProjectionRunner
from mymedic.bootstrap import Platform
from mymedic.demo.generator import TENANTS
from mymedic.settings import Settings
from tests.conftest import push_demo

pytestmark = pytest.mark.emulator


def test_twice_and_shuffled_equals_clean_on_firestore_and_bigquery(
    make_platform: Callable[..., Platform],
    firestore_emulator: Any,
    bigquery_emulator: Any,
    gcp_project: str,
    tmp_path: Path,
) -> None:
    clean = make_platform()
    push_demo(clean, seed=19, appointments=12)
    events = [stored.envelope for stored in clean.store.read_all(0, 100_000)]
    assert len(events) > 40

    documents = FirestoreDocumentStore(firestore_client(gcp_project))
    warehouse = BigQueryWarehouse.from_settings(
        Settings(
            gcp_project="mymedic-test",
            bigquery_dataset=f"r_{uuid4().hex}",
            bigquery_endpoint=os.environ["MYMEDIC_BIGQUERY_ENDPOINT"],
            _env_file=None,  # type: ignore[call-arg]
        )
    )
    warehouse.ensure_schema()
    calendar = ProjectionRunner(CalendarProjection(), documents, clean.store)
    facts = ProjectionRunner(WarehouseFactsProjection(), warehouse, clean.store)
    deliveries = events + events
    random.Random(23).shuffle(deliveries)
    for event in deliveries:
        calendar(event)
    # BigQuery gets the same shuffled, doubled stream in small batches (one transaction
    # per delivery batch, as the catch-up job would send them).
    for start in range(0, len(deliveries), 15):
        facts.handle_batch(deliveries[start : start + 15])
    assert calendar.stats.caught_up > 0 and calendar.stats.skipped > 0

    for spec in TENANTS:
        assert documents.query(CALENDAR, spec.tenant_id) == clean.documents.query(
            CALENDAR, spec.tenant_id
        )
    for table in WarehouseFactsProjection.tables:
        assert warehouse.query(table) == clean.warehouse.query(table)
    assert warehouse.query("rpt_patient_volume") == clean.warehouse.query("rpt_patient_volume")
    documents.close()
    warehouse.close()
