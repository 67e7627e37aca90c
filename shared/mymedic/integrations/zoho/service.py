"""Zoho ingestion wired from settings: the tenant's mapping, the client and the three
paths (webhook, delta sync, backfill), for the entry points and the command line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from mymedic.app.commands import utc_now
from mymedic.app.http import HttpResponse, error_response
from mymedic.integrations.zoho.backfill import BackfillResult, Progress, ZohoBackfill
from mymedic.integrations.zoho.client import ZohoAuthError, ZohoClient, ZohoError, ZohoUnavailable
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.delta import DeltaResult, ZohoDeltaSync
from mymedic.integrations.zoho.ingest import DEFAULT_BATCH_SIZE, ZohoIngestor
from mymedic.integrations.zoho.mapping import (
    MAPPINGS_DIR,
    MappingError,
    TenantMapping,
    load_mapping,
)
from mymedic.integrations.zoho.webhook import (
    WebhookSecrets,
    ZohoNotConfigured,
    handle_zoho_webhook,
)
from mymedic.ports import ConcurrencyConflict, EventStore, TransientBackendError
from mymedic.settings import Settings

ClientFactory = Callable[[ZohoConfig], ZohoClient]
JOBS = ("zoho-delta-sync", "zoho-backfill")


def mapping_path(settings: Settings, tenant_id: str) -> Path:
    return (settings.zoho_mapping_dir or MAPPINGS_DIR) / f"{tenant_id}.toml"


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


def zoho_config(settings: Settings) -> ZohoConfig:
    """The client's configuration; ZohoNotConfigured names what is missing."""
    missing = [
        name
        for name, value in (
            ("MYMEDIC_ZOHO_CLIENT_ID", settings.zoho_client_id),
            ("MYMEDIC_ZOHO_CLIENT_SECRET", settings.zoho_client_secret),
            ("MYMEDIC_ZOHO_REFRESH_TOKEN", settings.zoho_refresh_token),
        )
        if not value
    ]
    if missing:
        raise ZohoNotConfigured(f"Zoho API access is not configured: set {', '.join(missing)}")
    assert settings.zoho_client_id and settings.zoho_client_secret  # noqa: S101 - checked
    assert settings.zoho_refresh_token  # noqa: S101 - checked
    return ZohoConfig(
        data_centre=settings.zoho_data_centre,
        client_id=settings.zoho_client_id,
        client_secret=settings.zoho_client_secret,
        refresh_token=settings.zoho_refresh_token,
        accounts_url=settings.zoho_accounts_url,
        api_domain=settings.zoho_api_domain,
    )


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


class ZohoService:
    def __init__(
        self,
        settings: Settings,
        store: EventStore,
        *,
        tenant_id: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[], object] | None = None,
        client_factory: ClientFactory | None = None,
        sleep: Callable[[float], None] = time.sleep,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.settings = settings
        self.store = store
        self._tenant_id = tenant_id
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
            raise ZohoNotConfigured("no tenant for Zoho: set MYMEDIC_ZOHO_TENANT_ID")
        return tenant

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
                self._client = self._client_factory(zoho_config(self.settings))
            return self._client

    def modules(self) -> list[str]:
        return list(self.mapping.modules)

    # --- the three paths -------------------------------------------------------------

    def webhook(
        self,
        *,
        method: str,
        body: bytes,
        query: Callable[[str], str | None],
        header: Callable[[str], str | None],
    ) -> HttpResponse:
        secrets = WebhookSecrets(
            channel_token=_secret(self.settings.zoho_webhook_token),
            workflow_secret=_secret(self.settings.zoho_workflow_secret),
        )
        return handle_zoho_webhook(
            method=method,
            body=body,
            query=query,
            header=header,
            secrets=secrets,
            ingestor=self.ingestor,
            fetcher=self.client,
        )

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
    ) -> BackfillResult:
        backfill = ZohoBackfill(
            self.client(),
            self.ingestor(),
            poll_seconds=poll_seconds,
            workdir=workdir,
            clock=self._clock,
        )
        result = backfill.run(module, progress=progress, restart=restart, max_pages=max_pages)
        newest = result.stats.modified_through
        if result.finished and newest is not None:
            ZohoDeltaSync(self.client(), self.ingestor(), clock=self._clock).start_after_backfill(
                module, newest
            )
        return result

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def handle_zoho_job(
    service: ZohoService, job: str, query: Callable[[str], str | None]
) -> HttpResponse:
    """``POST /jobs/zoho-delta-sync`` and ``POST /jobs/zoho-backfill``, each for the
    module named by ``?module=`` or every module of the mapping, in turn. A failing
    module does not stop the others; the answer is then 503 (Zoho or the store was
    unavailable: retry) or 502 (Zoho refused), with every module's outcome."""
    try:
        modules = [query("module") or ""] if query("module") else service.modules()
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
