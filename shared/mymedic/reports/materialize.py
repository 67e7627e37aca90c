"""Materialized reports: the reports too heavy to compute on every read.

A report whose view ``rpt_x`` has a table ``mat_rpt_x`` (bigquery/tables) is read from
that table. The table holds exactly the view's rows, recomputed per tenant, in one
transaction, by ``Warehouse.refresh_materialized``; ``report_refresh`` records when and
from which facts version (the sum of the tenant's facts checkpoint versions, which grows
with every event the facts projection applies). A tenant's copy is stale when the facts
moved on since, or when it was computed on an earlier UTC day (receivables aging has an
"as of today" row). A read through ``catalog.run`` refreshes what is stale first, so a
report is never behind its facts; the ``refresh-reports`` job refreshes every tenant's
stale copies on a schedule, so that Looker Studio, which reads the tables directly, is
at most one schedule interval behind.

Why whole-tenant recomputation rather than maintaining sums event by event: the views
stay the one definition of every number (the copy cannot drift from the SQL the tests
check by hand), late events (a refund after month end, an earlier first scan) need no
special case, and a refresh costs what one read of the view used to cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mymedic.adapters.sql_catalog import (
    MATERIALIZED_PREFIX,
    REPORT_REFRESH,
    materialized_table,
    table_defs,
)
from mymedic.ports import Warehouse


def is_materialized(view: str) -> bool:
    return materialized_table(view) in table_defs()


def materialized_views() -> tuple[str, ...]:
    prefix = MATERIALIZED_PREFIX
    return tuple(sorted(name[len(prefix) :] for name in table_defs() if name.startswith(prefix)))


@dataclass(frozen=True)
class Refresh:
    tenant_id: str
    view: str
    refreshed: bool
    reason: str
    seconds: float


def stale_reason(
    warehouse: Warehouse, view: str, tenant_id: str, now: datetime, facts_version: int
) -> str | None:
    """Why the tenant's copy of ``view`` must be recomputed, or None when it is current."""
    rows = warehouse.query(REPORT_REFRESH, {"tenant_id": tenant_id, "report": view})
    if not rows:
        return "never refreshed"
    recorded = rows[0]
    if int(recorded["facts_version"]) != facts_version:
        return "facts changed"
    if recorded["refreshed_at"].date() < now.date():
        return "refreshed on an earlier day"
    return None


def ensure_fresh(
    warehouse: Warehouse,
    views: Iterable[str],
    tenant_id: str,
    now: datetime,
    *,
    force: bool = False,
) -> list[Refresh]:
    """Recompute the tenant's stale copies of ``views`` (every one when ``force``)."""
    version = warehouse.facts_version(tenant_id)
    done: list[Refresh] = []
    for view in views:
        reason = "forced" if force else stale_reason(warehouse, view, tenant_id, now, version)
        if reason is None:
            done.append(Refresh(tenant_id, view, False, "current", 0.0))
            continue
        started = time.perf_counter()
        warehouse.refresh_materialized(view, tenant_id, now)
        done.append(Refresh(tenant_id, view, True, reason, time.perf_counter() - started))
    return done


def tenants(warehouse: Warehouse) -> list[str]:
    """Every tenant with facts, however they arrived: a tenant whose directory lives in
    Zoho never registers a branch by hand, and its reports are refreshed all the same."""
    return warehouse.fact_tenants()
