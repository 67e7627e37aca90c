"""Materialized reports: each copy holds exactly its view's rows, is recomputed when the
facts move on (or a day passes), and a read through the catalog is never behind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mymedic import entrypoints
from mymedic.adapters.sql_catalog import FACTS_PROJECTION, materialized_table, table_defs
from mymedic.app.facts import WarehouseFactsProjection
from mymedic.bootstrap import Platform
from mymedic.demo.generator import TENANTS
from mymedic.reports import catalog, materialize
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking, push_demo, registration

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_the_copies_are_the_views_rows(make_platform: Callable[..., Platform]) -> None:
    platform = make_platform()
    push_demo(platform, seed=5, appointments=150)
    warehouse = platform.warehouse
    views = materialize.materialized_views()
    assert "rpt_referral_source" in views and "rpt_revenue_breakdown" in views
    for tenant in (t.tenant_id for t in TENANTS):
        done = materialize.ensure_fresh(warehouse, views, tenant, NOW)
        assert {item.reason for item in done} == {"never refreshed"}
        for view in views:
            table = materialized_table(view)
            assert warehouse.columns(table) == warehouse.columns(view), view
            live = warehouse.query(view, {"tenant_id": tenant})
            copy = warehouse.query(table, {"tenant_id": tenant})
            assert Counter(_hashable(r) for r in copy) == Counter(_hashable(r) for r in live), view
            key = table_defs()[table].key
            assert len({tuple(r[k] for k in key) for r in copy}) == len(copy), f"{view}: key"
    assert any(warehouse.query(materialized_table(v)) for v in views)


def _hashable(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted(row.items()))


def _send(client: Any, name: str, body: dict[str, Any]) -> None:
    response = client.post(f"/commands/{name}", json=body, headers=bearer(body["tenant_id"]))
    assert response.status_code == 201, response.get_json()


def _scan(client: Any, apt: str, hour: int) -> None:
    _send(
        client,
        "book_appointment",
        booking(
            apt,
            patient_id="p1",
            start_at=f"2026-02-10T{hour:02d}:00:00+05:30",
            occurred_at="2026-01-20T09:00:00+05:30",
        ),
    )
    _send(
        client,
        "complete_appointment",
        {"tenant_id": TENANT, "branch_id": BRANCH, "appointment_id": apt},
    )


def _scans(platform: Platform, now: datetime) -> list[int]:
    spec = catalog.report("patient-volume")
    _, rows = catalog.run(platform.warehouse, spec, TENANT, now=now)
    return [row["scans"] for row in rows]


def test_a_read_refreshes_a_stale_copy_first(platform: Platform) -> None:
    client = create_server().test_client()
    _send(client, "register_patient", registration("p1"))
    _scan(client, "a1", 9)
    platform.catch_up()
    assert _scans(platform, NOW) == [1]
    warehouse = platform.warehouse
    [current] = materialize.ensure_fresh(warehouse, ["rpt_patient_volume"], TENANT, NOW)
    assert (current.refreshed, current.reason) == (False, "current")
    _scan(client, "a2", 11)
    platform.catch_up()
    version = warehouse.facts_version(TENANT)
    reason = materialize.stale_reason(warehouse, "rpt_patient_volume", TENANT, NOW, version)
    assert reason == "facts changed"
    assert _scans(platform, NOW) == [2]  # the read refreshed it
    tomorrow = NOW + timedelta(days=1)
    reason = materialize.stale_reason(warehouse, "rpt_patient_volume", TENANT, tomorrow, version)
    assert reason == "refreshed on an earlier day"
    # A tenant without branches has nothing to refresh: an empty report with headers.
    columns, rows = catalog.run(warehouse, catalog.report("patient-volume"), "nobody")
    assert rows == [] and columns[0] == "tenant_id"


def test_the_refresh_job_recomputes_what_is_stale(platform: Platform) -> None:
    client = create_server().test_client()
    _send(client, "register_patient", registration("p1"))
    _scan(client, "a1", 9)

    def job(**args: str) -> tuple[int, dict[str, Any]]:
        response = entrypoints.run_job("refresh-reports", args.get)
        return response.status, response.body

    status, body = job()  # catches the warehouse up first
    views = materialize.materialized_views()
    assert (status, body["refreshed"], body["current"]) == (200, len(views), 0)
    assert {item["reason"] for item in body["reports"]} == {"never refreshed"}
    status, body = job()
    assert (status, body["refreshed"], body["current"]) == (200, 0, len(views))
    _scan(client, "a2", 11)
    status, body = job(report="revenue-breakdown")
    assert [(i["report"], i["reason"]) for i in body["reports"]] == [
        ("rpt_revenue_breakdown", "facts changed")
    ]
    status, body = job(force="true", tenant=TENANT)
    assert body["refreshed"] == len(views)
    assert job(report="no-shows")[0] == 400  # computed on every read
    assert job(report="nope")[0] == 404
    assert job(tenant="nobody")[0] == 404


@pytest.mark.parametrize("view", materialize.materialized_views())
def test_every_copy_belongs_to_a_catalog_report(view: str) -> None:
    assert catalog.report(view).view == view
    assert catalog.source(catalog.report(view)) == materialized_table(view)


def test_the_refresh_log_reads_the_facts_projection_s_checkpoints() -> None:
    assert WarehouseFactsProjection.name == FACTS_PROJECTION
