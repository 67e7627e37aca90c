"""Zoho ingestion wired from settings, per tenant: each tenant's mapping, connection
(data centre, credentials) and client, the three paths (webhook, delta sync, backfill),
the renewal of the Notifications API channel that feeds the webhook, and the registry
of the deployment's Zoho tenants (:class:`ZohoTenants`), which decides the tenant of a
webhook or a job from the call itself (its channel, its ``tenant`` argument), never
from one global setting. A tenant is a Zoho tenant when its ``<tenant>.toml`` mapping is
in the Zoho folder (``Settings.zoho_dir``)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from mymedic.app.commands import utc_now
from mymedic.app.http import HttpResponse, error_response
from mymedic.integrations.zoho.backfill import BackfillResult, Progress, ZohoBackfill
from mymedic.integrations.zoho.client import (
    MAX_CHANNEL_LIFETIME,
    MAX_CHANNEL_TOKEN_CHARS,
    ZohoAuthError,
    ZohoClient,
    ZohoError,
    ZohoUnavailable,
)
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.connection import (
    CHANNEL_TOKEN,
    CONNECTION_SUFFIX,
    WORKFLOW_SECRET,
    ConnectionError_,
    NotConnected,
    tenant_secret,
    zoho_config,
)
from mymedic.integrations.zoho.delta import DeltaResult, ZohoDeltaSync
from mymedic.integrations.zoho.ingest import DEFAULT_BATCH_SIZE, ZohoIngestor
from mymedic.integrations.zoho.mapping import MappingError, TenantMapping, load_mapping
from mymedic.integrations.zoho.records import Entity, Source
from mymedic.integrations.zoho.webhook import RecordFetcher, ZohoNotConfigured, handle_zoho_webhook
from mymedic.integrations.zoho_books.client import ZohoBooksClient
from mymedic.integrations.zoho_books.sync import BooksSyncResult, ZohoBooksSync
from mymedic.ports import ConcurrencyConflict, EventStore, SecretStore, TransientBackendError
from mymedic.settings import Settings

log = logging.getLogger(__name__)

ClientFactory = Callable[[ZohoConfig], ZohoClient]
RENEW_CHANNELS_JOB = "zoho-renew-channels"
BOOKS_SYNC_JOB = "zoho-books-sync"
FORMULA_REFRESH_JOB = "zoho-formula-refresh"
JOBS = (
    "zoho-delta-sync",
    "zoho-backfill",
    RENEW_CHANNELS_JOB,
    BOOKS_SYNC_JOB,
    FORMULA_REFRESH_JOB,
)
SYNC_ORDER: tuple[Entity, ...] = (
    "branch",
    "clinician",
    "room",
    "procedure",
    "referrer",
    "block",
    "patient",
    "referral",
    "appointment",
    "invoice",
    "payment",
    "refund",
    "nps",
    "complaint",
)
# A renewed channel expires a week ahead (Zoho's maximum) less this slack: Zoho measures
# the week by its own clock, and past a week it would quietly make it one hour.
CHANNEL_EXPIRY_SLACK = timedelta(minutes=1)
# Zoho answers with the expiry it set; one this much short of the request means Zoho
# fell back to its one-hour default (clocks further apart than the slack).
CHANNEL_EXPIRY_TOLERANCE = timedelta(minutes=10)
# Channel ids stay below 2**53, so they survive any JSON parser as numbers.
_CHANNEL_ID_SPACE = 2**53 - 1


class ChannelExpiryShortened(ZohoError):
    """Zoho set the channel to expire much sooner than asked (its one-hour default):
    notifications stop within the hour unless the clocks are fixed and the job rerun."""


def channel_id_for(tenant_id: str) -> int:
    """The tenant's Notifications API channel id: stable (so renewing updates the same
    channel), distinct per tenant, a positive long."""
    digest = hashlib.sha256(f"mymedic/zoho-notifications/{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _CHANNEL_ID_SPACE + 1


def configured_notify_url(settings: Settings) -> str:
    """MYMEDIC_ZOHO_NOTIFY_URL, or ZohoNotConfigured."""
    if not settings.zoho_notify_url:
        raise ZohoNotConfigured(
            "no notify URL for the Zoho channel: set MYMEDIC_ZOHO_NOTIFY_URL "
            "(the public URL of the zoho_webhook function)"
        )
    return settings.zoho_notify_url


def mapping_path(settings: Settings, tenant_id: str) -> Path:
    return settings.zoho_dir / f"{tenant_id}.toml"


def zoho_tenant_ids(settings: Settings) -> list[str]:
    """The tenants with a Zoho mapping in the Zoho folder."""
    folder = settings.zoho_dir
    if not folder.is_dir():
        return []
    return sorted(
        path.name.removesuffix(".toml")
        for path in folder.glob("*.toml")
        if not path.name.endswith(CONNECTION_SUFFIX) and not path.name.startswith(".")
    )


def load_tenant_mapping(settings: Settings, tenant_id: str) -> TenantMapping:
    path = mapping_path(settings, tenant_id)
    if not path.is_file():
        raise ZohoNotConfigured(
            f"no Zoho mapping {path.name} for tenant {tenant_id} (MYMEDIC_ZOHO_MAPPING_DIR)"
        )
    try:
        mapping = load_mapping(path)
    except MappingError as exc:
        raise ZohoNotConfigured(str(exc)) from exc
    if mapping.tenant_id != tenant_id:
        raise ZohoNotConfigured(f"{path.name} maps tenant {mapping.tenant_id}, not {tenant_id}")
    return mapping


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class ZohoService:
    """One tenant's Zoho org."""

    def __init__(
        self,
        settings: Settings,
        store: EventStore,
        *,
        tenant_id: str | None = None,
        secrets: SecretStore | None = None,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[], object] | None = None,
        client_factory: ClientFactory | None = None,
        sleep: Callable[[float], None] = time.sleep,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.settings = settings
        self.store = store
        self._tenant_id = tenant_id
        self._secrets = secrets
        self._clock = clock
        self._after_commit = after_commit
        self._client_factory = client_factory or (lambda config: ZohoClient(config, sleep=sleep))
        self._sleep = sleep
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._ingestor: ZohoIngestor | None = None
        self._client: ZohoClient | None = None

    @property
    def tenant_id(self) -> str:
        tenant = self._tenant_id or self.settings.zoho_tenant_id
        if not tenant:
            only = zoho_tenant_ids(self.settings)
            if len(only) != 1:
                raise ZohoNotConfigured(
                    "no tenant for Zoho: name one (--tenant, ?tenant=); Zoho tenants: "
                    + (", ".join(only) or "none")
                )
            tenant = only[0]
        return tenant

    @property
    def is_default(self) -> bool:
        """The tenant of a one-tenant install (MYMEDIC_ZOHO_TENANT_ID, or the only Zoho
        tenant when that is not set): its credentials may be the MYMEDIC_ZOHO_* settings."""
        configured = self.settings.zoho_tenant_id
        if configured is not None:
            return configured == self.tenant_id
        return zoho_tenant_ids(self.settings) == [self.tenant_id]

    def secret(self, name: str) -> str | None:
        """One of the tenant's webhook tokens (see ``connection.tenant_secret``)."""
        return _secret(
            tenant_secret(
                self.settings, self._secrets, self.tenant_id, name, default=self.is_default
            )
        )

    def ingestor(self) -> ZohoIngestor:
        with self._lock:
            if self._ingestor is None:
                self._ingestor = ZohoIngestor(
                    self.store,
                    load_tenant_mapping(self.settings, self.tenant_id),
                    clock=self._clock,
                    after_commit=self._after_commit,
                    batch_size=self._batch_size,
                )
            return self._ingestor

    @property
    def mapping(self) -> TenantMapping:
        return self.ingestor().mapping

    def client(self) -> ZohoClient:
        with self._lock:
            if self._client is None:
                try:
                    config = zoho_config(
                        self.settings,
                        self._secrets,
                        self.tenant_id,
                        self.settings.zoho_dir,
                        default=self.is_default,
                    )
                except (NotConnected, ConnectionError_) as exc:
                    raise ZohoNotConfigured(str(exc)) from exc
                self._client = self._client_factory(config)
            return self._client

    def modules(self) -> list[str]:
        return list(self.mapping.modules)

    def sync_order(self) -> list[str]:
        """The mapped modules, parents first (the directory, then patients, their
        visits, then money and feedback), so that a backfill rarely parks anything."""
        modules = self.mapping.modules
        return sorted(modules, key=lambda name: SYNC_ORDER.index(modules[name].entity))

    # --- the three paths -------------------------------------------------------------

    def delta_sync(self, module: str) -> DeltaResult:
        return ZohoDeltaSync(self.client(), self.ingestor(), clock=self._clock).run(module)

    def backfill(
        self,
        module: str,
        *,
        progress: Progress | None = None,
        restart: bool = False,
        max_pages: int | None = None,
        poll_seconds: float = 5.0,
        workdir: Path | None = None,
        source: Source = "backfill",
    ) -> BackfillResult:
        backfill = ZohoBackfill(
            self.client(),
            self.ingestor(),
            poll_seconds=poll_seconds,
            workdir=workdir,
            clock=self._clock,
        )
        result = backfill.run(
            module, progress=progress, restart=restart, max_pages=max_pages, source=source
        )
        newest = result.stats.modified_through
        if result.finished and newest is not None:
            ZohoDeltaSync(self.client(), self.ingestor(), clock=self._clock).start_after_backfill(
                module, newest
            )
        return result

    def formula_modules(self) -> list[str]:
        return [name for name in self.sync_order() if self.mapping.modules[name].formula_fields]

    def formula_refresh(self, module: str, *, poll_seconds: float = 5.0) -> BackfillResult:
        """Read ``module`` whole again (Bulk Read), for its formula fields: Zoho does not
        move Modified_Time when a formula's value changes, so the delta sync never sees
        it. A version whose canonical content is unchanged is recognised and skipped; one
        whose formula changed is ingested as a new version (of the same Modified_Time)."""
        return self.backfill(
            module, restart=True, poll_seconds=poll_seconds, source="formula_refresh"
        )

    def books_sync(self) -> BooksSyncResult:
        """Zoho Books invoices and customer payments into our invoices (see
        :mod:`mymedic.integrations.zoho_books.sync`)."""
        mapping = self.mapping
        if mapping.books is None:
            raise ZohoNotConfigured(
                f"no [books] table (organization_id) in the Zoho mapping of {mapping.tenant_id}"
            )
        source = ZohoBooksClient(self.client(), mapping.books.organization_id)
        result = ZohoBooksSync(source, self.store, mapping, clock=self._clock).run()
        if self._after_commit is not None and any(
            listing.applied or listing.review for listing in result.listings
        ):
            self._after_commit()
        return result

    def renew_channels(self, notify_url: str) -> dict[str, Any]:
        """Enable the tenant's Notifications API channel again: one channel (a stable
        id) watching ``<Module>.all`` of every mapped module, calling ``notify_url`` with
        the configured channel token, until a week from now (less a minute). Run daily:
        enabling is idempotent, renews the expiry, and re-creates a channel that lapsed.
        Modules no longer mapped stay subscribed until their expiry, then lapse."""
        token = self.secret(CHANNEL_TOKEN)
        if not token:
            raise ZohoNotConfigured(
                f"no channel token for tenant {self.tenant_id}: run `mymedic zoho connect "
                f"--tenant {self.tenant_id}` (or, for a one-tenant install, set "
                "MYMEDIC_ZOHO_WEBHOOK_TOKEN): the webhook checks every Notifications API "
                "callback against it"
            )
        if len(token) > MAX_CHANNEL_TOKEN_CHARS:
            raise ZohoNotConfigured(
                f"the channel token of {self.tenant_id} has {len(token)} characters; Zoho's "
                f"channel token takes at most {MAX_CHANNEL_TOKEN_CHARS}"
            )
        parts = urlsplit(notify_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ZohoNotConfigured(
                "the notify URL (MYMEDIC_ZOHO_NOTIFY_URL) must be an absolute http(s) URL"
            )
        events = [f"{module}.all" for module in self.modules()]
        channel_id = channel_id_for(self.tenant_id)
        client = self.client()
        listed = True
        try:  # only to report what the renewal changed: a failure here must not stop it
            before = next(
                (c for c in client.watched(channel_id) if c.channel_id == channel_id), None
            )
        except ZohoError as exc:
            log.warning("could not list Zoho channel %d before renewing it: %s", channel_id, exc)
            listed, before = False, None
        wanted = (client.now() + MAX_CHANNEL_LIFETIME - CHANNEL_EXPIRY_SLACK).replace(microsecond=0)
        channel = client.watch(channel_id, events, notify_url, token, wanted)
        if channel.expires_at < wanted - CHANNEL_EXPIRY_TOLERANCE:
            raise ChannelExpiryShortened(
                f"Zoho set channel {channel_id} to expire at {channel.expires_at.isoformat()}, "
                f"not {wanted.isoformat()} as asked: is this machine's clock ahead of Zoho's?"
            )
        mapped = {event.rpartition(".")[0] for event in events}
        unmapped = sorted(
            {event.rpartition(".")[0] for event in before.events} - mapped if before else set()
        )
        if unmapped:
            log.warning(
                "Zoho channel %d still watches %s (no longer mapped) until it lapses",
                channel_id,
                ", ".join(unmapped),
            )
        return {
            "channel_id": channel_id,
            "events": list(channel.events),
            "notify_url": notify_url,
            "expires_at": channel.expires_at.isoformat(),
            "previous_expires_at": before.expires_at.isoformat() if before else None,
            # New, or re-created after it lapsed (None: the listing failed, unknown).
            "created": before is None if listed else None,
            "unmapped_modules": unmapped,
        }

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class ZohoTenants:
    """The deployment's Zoho tenants: a :class:`ZohoService` each, built on first use
    and kept; what the webhook and the jobs resolve a tenant through."""

    def __init__(
        self,
        settings: Settings,
        store: EventStore,
        *,
        secrets: SecretStore | None = None,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[], object] | None = None,
        client_factory: ClientFactory | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._store = store
        self._secrets = secrets
        self._clock = clock
        self._after_commit = after_commit
        self._client_factory = client_factory
        self._sleep = sleep
        self._services: dict[str, ZohoService] = {}
        self._lock = threading.Lock()

    def tenant_ids(self) -> list[str]:
        return zoho_tenant_ids(self.settings)

    def is_tenant(self, tenant_id: str) -> bool:
        return tenant_id in self.tenant_ids()

    def default_tenant(self) -> str | None:
        """The tenant a call that names none is for: the only one, or the configured
        default of a one-tenant install."""
        known = self.tenant_ids()
        if len(known) == 1:
            return known[0]
        default = self.settings.zoho_tenant_id
        return default if default in known else None

    def service(self, tenant_id: str) -> ZohoService:
        with self._lock:
            found = self._services.get(tenant_id)
            if found is None:
                found = self._services[tenant_id] = ZohoService(
                    self.settings,
                    self._store,
                    tenant_id=tenant_id,
                    secrets=self._secrets,
                    clock=self._clock,
                    after_commit=self._after_commit,
                    client_factory=self._client_factory,
                    sleep=self._sleep,
                )
            return found

    def tenant_of_channel(self, channel_id: str) -> str | None:
        return next(
            (tenant for tenant in self.tenant_ids() if str(channel_id_for(tenant)) == channel_id),
            None,
        )

    def channel_token(self, tenant_id: str) -> str | None:
        return self.service(tenant_id).secret(CHANNEL_TOKEN)

    def workflow_secret(self, tenant_id: str) -> str | None:
        return self.service(tenant_id).secret(WORKFLOW_SECRET)

    def ingestor(self, tenant_id: str) -> ZohoIngestor:
        return self.service(tenant_id).ingestor()

    def fetcher(self, tenant_id: str) -> RecordFetcher:
        return self.service(tenant_id).client()

    def webhook(
        self,
        *,
        method: str,
        body: bytes,
        query: Callable[[str], str | None],
        header: Callable[[str], str | None],
    ) -> HttpResponse:
        return handle_zoho_webhook(method=method, body=body, query=query, header=header, orgs=self)

    def close(self) -> None:
        with self._lock:
            for service in self._services.values():
                service.close()
            self._services.clear()


def handle_zoho_job(
    tenants: ZohoTenants, job: str, query: Callable[[str], str | None]
) -> HttpResponse:
    """``POST /jobs/zoho-<job>[?tenant=T]``: for the tenant named, else for every Zoho
    tenant in turn (one failing tenant does not stop the others; the answer is then the
    worst status, with every tenant's outcome). An unknown tenant is 404."""
    named = query("tenant")
    known = tenants.tenant_ids()
    if named is not None and named not in known:
        return error_response(404, "unknown_tenant", f"{named} has no Zoho mapping", job=job)
    if not known:
        return error_response(
            503, "not_configured", "no Zoho tenant: no <tenant>.toml in the Zoho folder", job=job
        )
    chosen = [named] if named else known
    if len(chosen) == 1:
        return _tenant_job(tenants.service(chosen[0]), job, query)
    outcomes = {tenant: _tenant_job(tenants.service(tenant), job, query) for tenant in chosen}
    status = max(outcome.status for outcome in outcomes.values())
    return HttpResponse(status, {"job": job, "tenants": {t: o.body for t, o in outcomes.items()}})


def _tenant_job(service: ZohoService, job: str, query: Callable[[str], str | None]) -> HttpResponse:
    """One tenant's ``zoho-delta-sync``, ``zoho-backfill`` (each for the module named by
    ``?module=`` or every module of the mapping, in turn; a failing module does not
    stop the others; the answer is then 503 (Zoho or the store was unavailable: retry)
    or 502 (Zoho refused), with every module's outcome), ``zoho-renew-channels`` (see
    :meth:`ZohoService.renew_channels`) or ``zoho-books-sync``."""
    if job == RENEW_CHANNELS_JOB:
        return _single_job(
            service,
            job,
            lambda: service.renew_channels(configured_notify_url(service.settings)),
        )
    if job == BOOKS_SYNC_JOB:
        return _single_job(service, job, lambda: service.books_sync().to_dict())
    try:
        if job == FORMULA_REFRESH_JOB:
            modules = [query("module") or ""] if query("module") else service.formula_modules()
        elif query("module"):
            modules = [query("module") or ""]
        else:
            modules = service.sync_order()
        unknown = [module for module in modules if module not in service.mapping.modules]
    except ZohoNotConfigured as exc:
        return error_response(503, "not_configured", str(exc))
    if unknown:
        return error_response(
            422, "unknown_module", f"{unknown[0]!r} is not in the Zoho mapping", field="module"
        )
    restart = (query("restart") or "").lower() in ("1", "true", "yes")
    outcomes: dict[str, Any] = {}
    status = 200
    for module in modules:
        try:
            if job == "zoho-delta-sync":
                outcomes[module] = service.delta_sync(module).to_dict()
            elif job == FORMULA_REFRESH_JOB:
                outcomes[module] = service.formula_refresh(module).to_dict()
            else:
                outcomes[module] = service.backfill(module, restart=restart).to_dict()
        except ZohoNotConfigured as exc:
            return error_response(503, "not_configured", str(exc))
        except (ZohoUnavailable, ConcurrencyConflict, TransientBackendError) as exc:
            outcomes[module] = {"error": "unavailable", "message": str(exc)}
            status = max(status, 503)
        except (ZohoAuthError, ZohoError) as exc:
            outcomes[module] = {"error": "zoho_error", "message": str(exc)}
            status = 502 if status == 200 else status
    return HttpResponse(status, {"job": job, "tenant_id": service.tenant_id, "modules": outcomes})


def _single_job(service: ZohoService, job: str, run: Callable[[], dict[str, Any]]) -> HttpResponse:
    try:
        outcome = run()
        tenant_id = service.tenant_id
    except ZohoNotConfigured as exc:
        return error_response(503, "not_configured", str(exc), job=job)
    except (ZohoUnavailable, ConcurrencyConflict, TransientBackendError) as exc:
        return error_response(503, "unavailable", str(exc), job=job)
    except ZohoAuthError as exc:
        return error_response(502, "zoho_auth_failed", str(exc), job=job)
    except ZohoError as exc:
        return error_response(502, "zoho_error", str(exc), job=job)
    return HttpResponse(200, {"job": job, "tenant_id": tenant_id, **outcome})
