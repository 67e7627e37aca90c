"""``POST /jobs/google-ads-sync?tenant=&from=&to=``: the scheduled Google Ads sync.

``tenant``: one tenant, or every tenant with accounts in MYMEDIC_GOOGLE_ADS_CUSTOMERS.
``from`` and ``to`` (ISO dates, in the accounts' time zone): the days to read; the
sync adds the last ``RESTATEMENT_DAYS`` days anyway, so without them it reads just
those. 200 when every account synced; 503 when not configured or Google Ads was
unavailable (run again); 502 when Google Ads refused (credentials, access).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from mymedic.app.commands import utc_now
from mymedic.app.http import HttpResponse, error_response
from mymedic.integrations.google_ads.config import (
    GoogleAdsConfig,
    GoogleAdsNotConfigured,
    google_ads_config,
)
from mymedic.integrations.google_ads.queries import MAX_RANGE_DAYS
from mymedic.integrations.google_ads.source import AdsSource, GoogleAdsApiSource
from mymedic.integrations.google_ads.sync import RESTATEMENT_DAYS, AdsCostSync
from mymedic.ports import EventStore, TransientBackendError
from mymedic.settings import Settings

JOB = "google-ads-sync"
SourceFactory = Callable[[GoogleAdsConfig], AdsSource]


class _BadDate(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.field = name


def _parse(query: Callable[[str], str | None], name: str) -> date | None:
    raw = query(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _BadDate(name, f"{name} must be a date like 2026-01-31") from None


def requested_range(query: Callable[[str], str | None], today: date) -> tuple[date, date]:
    start, end = _parse(query, "from"), _parse(query, "to")
    end = end or max(today - timedelta(days=1), start or date.min)
    start = start or end - timedelta(days=RESTATEMENT_DAYS - 1)
    if end < start:
        raise _BadDate("to", f"to ({end}) is before from ({start})")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise _BadDate("from", f"at most {MAX_RANGE_DAYS} days at a time")
    return start, end


def handle_google_ads_job(
    settings: Settings,
    store: EventStore,
    query: Callable[[str], str | None],
    *,
    clock: Callable[[], datetime] = utc_now,
    after_commit: Callable[[], object] | None = None,
    source_factory: SourceFactory = GoogleAdsApiSource,
) -> HttpResponse:
    try:
        start, end = requested_range(query, clock().date())
    except _BadDate as exc:
        return error_response(400, "invalid_date", str(exc), field=exc.field)
    try:
        config = google_ads_config(settings)
        tenant = query("tenant")
        tenants = [tenant] if tenant else sorted(config.customers)
        if not tenants:
            raise GoogleAdsNotConfigured(
                "no tenant has Google Ads accounts: set MYMEDIC_GOOGLE_ADS_CUSTOMERS"
            )
        plan = {name: config.customers_of(name) for name in tenants}
    except GoogleAdsNotConfigured as exc:
        return error_response(503, "not_configured", str(exc))
    sync = AdsCostSync(store, source_factory(config), clock=clock, after_commit=after_commit)
    reports: dict[str, Any] = {}
    unavailable = refused = False
    try:
        for name, customers in plan.items():
            report = sync.run(name, customers, start, end)
            reports[name] = report.to_dict()
            unavailable |= report.unavailable
            refused |= bool(report.failed) and not report.unavailable
    except TransientBackendError as exc:
        return error_response(503, "unavailable", str(exc), tenants=reports)
    status = 503 if unavailable else 502 if refused else 200
    return HttpResponse(status, {"job": JOB, "tenants": reports})
