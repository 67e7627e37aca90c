"""The bodies of the Cloud Functions, shared by functions/main.py and ``mymedic serve``.

Each is a few lines: parse, call the application, map the outcome to a status. The
platform is built on first use (never at import) and kept for the instance's life.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from flask import Request, Response

from mymedic.app.audit_api import handle_audit_request
from mymedic.app.auth import AuthUnavailable, Principal, TokenVerifier, auth_config
from mymedic.app.command_api import handle_command_request
from mymedic.app.dashboard_api import HtmlResponse, handle_dashboard_request
from mymedic.app.http import HttpResponse, error_response
from mymedic.app.openapi import openapi_document
from mymedic.app.pubsub import PoisonMessage, decode_pubsub_event
from mymedic.app.read_api import handle_read_request
from mymedic.bootstrap import Platform, bootstrap
from mymedic.ports import TransientBackendError

if TYPE_CHECKING:
    from mymedic.integrations.zoho.service import ZohoTenants

log = logging.getLogger(__name__)

_platform: Platform | None = None
_verifier: TokenVerifier | None = None
_platform_lock = threading.Lock()


def platform() -> Platform:
    global _platform
    with _platform_lock:
        if _platform is None:
            _platform = bootstrap()
        return _platform


def use_platform(instance: Platform | None) -> None:
    """Install (or with None, forget) the platform the entry points use."""
    global _platform, _verifier
    with _platform_lock:
        _platform = instance
        _verifier = None


def authenticate(authorization: str | None) -> Principal:
    """Verify a bearer token with the platform's settings (the verifier is built once)."""
    global _verifier
    current = platform()
    with _platform_lock:
        if _verifier is None:
            try:
                _verifier = TokenVerifier(auth_config(current.settings))
            except ValueError as exc:
                raise AuthUnavailable(f"authentication is not configured: {exc}") from exc
        verifier = _verifier
    return verifier.verify(authorization)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json", headers=headers)


def commands(request: Request) -> Response:
    if request.method == "GET" and request.path.rstrip("/").endswith("openapi.json"):
        return json_response(200, openapi_document())
    result = handle_command_request(
        platform().commands,
        authenticate,
        method=request.method,
        path=request.path,
        body=request.get_data(cache=False),
        header=request.headers.get,
    )
    return json_response(result.status, result.body, result.headers)


def audit(request: Request) -> Response:
    """The audit trail of one appointment: GET /audit/appointments/<id>?tenant_id=..."""
    result = handle_audit_request(
        platform().store,
        authenticate,
        method=request.method,
        path=request.path,
        query=request.args.get,
        header=request.headers.get,
    )
    return json_response(result.status, result.body, result.headers)


def read(request: Request) -> Response:
    """The read models: GET /read/<model>?tenant_id=...&... (see ``app.read_api``)."""
    current = platform()
    result = handle_read_request(
        current.documents,
        authenticate,
        method=request.method,
        path=request.path,
        args=request.args.to_dict(flat=False),
        header=request.headers.get,
        now=current.clock,
    )
    return json_response(result.status, result.body, result.headers)


def dashboards(request: Request) -> Response:
    """A dashboard's pages for the caller's tenant: GET /dashboards/<name>?tenant=... (see
    ``app.dashboard_api``): HTML, or a refusal in the read API's JSON."""
    result = handle_dashboard_request(
        platform().warehouse,
        authenticate,
        method=request.method,
        path=request.path,
        args=request.args.to_dict(flat=False),
        header=request.headers.get,
    )
    if isinstance(result, HtmlResponse):
        return Response(result.html, status=200, mimetype="text/html", headers=result.headers)
    return json_response(result.status, result.body, result.headers)


def project(projection: str, cloud_event: Any) -> None:
    """Apply one Pub/Sub-delivered event. Raising makes Pub/Sub redeliver (and, past the
    subscription's attempt limit, dead-letter); a poison message is logged with its
    reason and raised too, so it lands in the dead-letter topic rather than vanishing.

    A live projection applies the event itself. A batch projection (the warehouse)
    takes the delivery as a trigger and follows the store from its own position, so
    that the warehouse gets few large MERGEs instead of one per event."""
    try:
        envelope = decode_pubsub_event(cloud_event.data)
    except PoisonMessage as exc:
        log.error("poison message for %s: %s", projection, exc)
        raise
    current = platform()
    if projection in current.live_runners:
        current.live_runners[projection](envelope)
    elif projection in current.batch_runners:
        current.catch_up()
    else:
        raise KeyError(f"no projection named {projection}")


# Zoho CRM ingestion (see ``integrations.zoho.service.handle_zoho_job``).
ZOHO_JOBS = (
    "zoho-delta-sync",
    "zoho-backfill",
    "zoho-renew-channels",
    "zoho-books-sync",
    "zoho-formula-refresh",
)
# Gateway settlements: fetch the lines their webhooks do not list.
SETTLEMENT_DETAIL = "settlement-detail"
# Google Ads cost and clicks (see ``integrations.google_ads.service``).
GOOGLE_ADS_SYNC = "google-ads-sync"
# Alert rules and snapshot e-mails (see ``app.alerts.job`` and ``app.snapshots``).
ALERTS, SNAPSHOTS = "alerts", "snapshots"
# Materialized reports (see ``reports.materialize`` and ``app.report_refresh``).
REFRESH_REPORTS = "refresh-reports"
JOBS = (
    "outbox-relay",
    "projection-catch-up",
    SETTLEMENT_DETAIL,
    *ZOHO_JOBS,
    GOOGLE_ADS_SYNC,
    ALERTS,
    SNAPSHOTS,
    REFRESH_REPORTS,
)


def jobs(request: Request) -> Response:
    """Scheduled jobs, invoked by Cloud Scheduler (OIDC, checked by the platform's
    invoker binding) or by hand: POST /jobs/<name>. Each is idempotent: running it twice
    in a window does nothing the first run did not."""
    name = request.path.rstrip("/").rsplit("/", 1)[-1]
    if name not in JOBS:
        return json_response(404, {"error": "unknown_job", "message": name, "known": list(JOBS)})
    if request.method != "POST":
        return json_response(405, {"error": "method_not_allowed", "message": "jobs run on POST"})
    result = run_job(name, request.args.get)
    return json_response(result.status, result.body, result.headers)


def run_job(name: str, arg: Callable[[str], str | None]) -> HttpResponse:
    """One job on the current platform (the HTTP function and ``mymedic jobs run``)."""
    if name not in JOBS:
        return error_response(404, "unknown_job", name, known=list(JOBS))
    if name in ZOHO_JOBS:
        from mymedic.integrations.zoho.service import handle_zoho_job

        return handle_zoho_job(zoho(), name, arg)
    current = platform()
    if name == GOOGLE_ADS_SYNC:
        from mymedic.integrations.google_ads.service import handle_google_ads_job

        return handle_google_ads_job(
            current.settings,
            current.store,
            arg,
            clock=current.clock,
            after_commit=current.relay.drain,
        )
    if name == SETTLEMENT_DETAIL:
        return settlement_detail(current)
    if name == ALERTS:
        from mymedic.app.alerts.job import handle_alerts_job

        return handle_alerts_job(current, arg)
    if name == SNAPSHOTS:
        from mymedic.app.snapshots import handle_snapshots_job

        return handle_snapshots_job(current, arg)
    if name == REFRESH_REPORTS:
        from mymedic.app.report_refresh import handle_refresh_reports_job

        return handle_refresh_reports_job(current, arg)
    try:
        if name == "outbox-relay":
            relayed = current.relay.drain()
            body = {
                "job": name,
                "published": relayed.published,
                "failed": relayed.failed,
                "dead_lettered": relayed.dead_lettered,
            }
        else:
            followed = current.catch_up()
            body = {"job": name, "events": followed.events, "position": followed.last_position}
    except TransientBackendError as exc:
        return error_response(503, "unavailable", str(exc))
    return HttpResponse(200, body)


def settlement_detail(current: Platform) -> HttpResponse:
    """Itemize the settlements whose webhook listed no payments; 503 when a gateway was
    unavailable (the next run takes up what this one could not)."""
    from mymedic.integrations.payments.settlement_detail import run_settlement_detail

    try:
        outcome = run_settlement_detail(current.store, current.settings, clock=current.clock)
    except TransientBackendError as exc:
        return error_response(503, "unavailable", str(exc))
    if outcome.itemized:
        current.relay.drain()
    if outcome.unavailable:
        message = f"unavailable: {', '.join(sorted(set(outcome.unavailable)))}"
        return error_response(503, "unavailable", message, **outcome.to_dict())
    return HttpResponse(200, outcome.to_dict())


# --- Zoho CRM ---------------------------------------------------------------------------

_zoho: tuple[Platform, ZohoTenants] | None = None


def zoho() -> ZohoTenants:
    """The Zoho tenants of the current platform (built on first use, kept with it)."""
    global _zoho
    from mymedic.integrations.zoho.service import ZohoTenants

    current = platform()
    with _platform_lock:
        if _zoho is None or _zoho[0] is not current:
            if _zoho is not None:
                _zoho[1].close()
            tenants = ZohoTenants(
                current.settings,
                current.store,
                secrets=current.secrets,
                clock=current.clock,
                after_commit=current.relay.drain,
            )
            _zoho = (current, tenants)
        return _zoho[1]


def zoho_webhook(request: Request) -> Response:
    """Zoho CRM callbacks: Notifications API channels (token in the body) and
    workflow-rule webhooks (``X-Zoho-Webhook-Secret``): POST /webhooks/zoho."""
    result = zoho().webhook(
        method=request.method,
        body=request.get_data(cache=False),
        query=request.args.get,
        header=request.headers.get,
    )
    return json_response(result.status, result.body, result.headers)


# --- payment gateways -----------------------------------------------------------------


def payment_webhook(request: Request, provider: str | None = None) -> Response:
    """Stripe and Razorpay webhooks: POST /webhooks/stripe, POST /webhooks/razorpay
    (or the provider's own function). See ``integrations.payments.webhook``."""
    from mymedic.integrations.payments.ingest import PaymentIngestor
    from mymedic.integrations.payments.webhook import PROVIDERS, handle_payment_webhook

    name = provider or request.path.rstrip("/").rsplit("/", 1)[-1]
    chosen = next((known for known in PROVIDERS if known == name), None)
    if chosen is None:
        return json_response(404, {"error": "unknown_provider", "message": name})
    current = platform()
    secret = (
        current.settings.stripe_webhook_secret
        if chosen == "stripe"
        else current.settings.razorpay_webhook_secret
    )
    result = handle_payment_webhook(
        chosen,
        method=request.method,
        body=request.get_data(cache=False),
        header=request.headers.get,
        secret=secret.get_secret_value() if secret is not None else None,
        ingestor=lambda: PaymentIngestor(
            current.store,
            payments_tenant=current.settings.payments_tenant_id
            or current.settings.default_tenant_id,
            clock=current.clock,
            after_commit=current.relay.drain,
        ),
    )
    return json_response(result.status, result.body, result.headers)
