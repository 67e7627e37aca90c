"""The ``refresh-reports`` job: brings the warehouse up to the end of the store, then
recomputes every tenant's stale materialized reports (``reports.materialize``).

Query arguments: ``tenant`` (one tenant only), ``report`` (one report, by CLI name or
view), ``force=true`` (recompute even what is current). Idempotent: a second run with
no new events recomputes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mymedic.app.http import HttpResponse, error_response
from mymedic.bootstrap import Platform
from mymedic.ports import TransientBackendError
from mymedic.reports import catalog, materialize


def handle_refresh_reports_job(
    platform: Platform, query: Callable[[str], str | None]
) -> HttpResponse:
    views = list(materialize.materialized_views())
    wanted = query("report")
    if wanted:
        try:
            view = catalog.report(wanted).view
        except catalog.UnknownReport as exc:
            return error_response(404, "unknown_report", str(exc.args[0]))
        if view not in views:
            return error_response(
                400, "not_materialized", f"{wanted} is computed on every read, not materialized"
            )
        views = [view]
    force = (query("force") or "").lower() in ("1", "true", "yes")
    now = platform.clock()
    done: list[dict[str, Any]] = []
    try:
        platform.catch_up()
        known = materialize.tenants(platform.warehouse)
        only = query("tenant")
        for tenant in [only] if only else known:
            if tenant not in known:
                return error_response(404, "unknown_tenant", f"no facts of tenant {tenant}")
            for item in materialize.ensure_fresh(
                platform.warehouse, views, tenant, now, force=force
            ):
                done.append(
                    {
                        "tenant_id": item.tenant_id,
                        "report": item.view,
                        "refreshed": item.refreshed,
                        "reason": item.reason,
                        "seconds": round(item.seconds, 3),
                    }
                )
    except TransientBackendError as exc:
        return error_response(503, "unavailable", str(exc), done=done)
    refreshed = sum(1 for item in done if item["refreshed"])
    return HttpResponse(
        200,
        {
            "job": "refresh-reports",
            "refreshed": refreshed,
            "current": len(done) - refreshed,
            "reports": done,
        },
    )
