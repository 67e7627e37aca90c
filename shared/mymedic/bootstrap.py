"""The one place that chooses adapters, from settings, and wires the platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mymedic.adapters.sql_catalog import REPORT_REFRESH
from mymedic.app.calendar import CalendarProjection
from mymedic.app.commands import CommandService, utc_now
from mymedic.app.facts import WarehouseFactsProjection
from mymedic.app.outbox import OutboxRelay
from mymedic.app.projections import ProjectionRunner
from mymedic.app.read_models import ReadModelsProjection
from mymedic.app.replay import ReplayReport, replay
from mymedic.ports import DocumentStore, EventBus, EventStore, SecretStore, Warehouse
from mymedic.settings import Settings


class BackendUnavailable(RuntimeError):
    pass


@dataclass
class Platform:
    settings: Settings
    store: EventStore
    bus: EventBus
    documents: DocumentStore
    warehouse: Warehouse
    relay: OutboxRelay
    commands: CommandService
    # Pushed each event by the bus as soon as it is committed (cheap, per-event writes).
    live_runners: dict[str, ProjectionRunner[Any]] = field(default_factory=dict)
    # Follow the store in large batches (a warehouse wants few, big writes: one MERGE
    # per table per batch), on demand and from the scheduled catch-up job.
    batch_runners: dict[str, ProjectionRunner[Any]] = field(default_factory=dict)
    # The platform's clock (the command service's): "now" for reads such as free slots.
    clock: Callable[[], datetime] = utc_now
    # Tenants' own secrets (integration accounts): built on first use, never at start-up.
    secrets_factory: Callable[[], SecretStore] | None = None
    _secrets: SecretStore | None = None

    @property
    def secrets(self) -> SecretStore:
        if self._secrets is None:
            if self.secrets_factory is None:
                raise BackendUnavailable("no secret store is configured")
            self._secrets = self.secrets_factory()
        return self._secrets

    @property
    def runners(self) -> dict[str, ProjectionRunner[Any]]:
        return {**self.live_runners, **self.batch_runners}

    def catch_up(self, progress: Callable[[int], None] | None = None) -> ReplayReport:
        """Bring the batch projections (the warehouse) up to the end of the store."""
        return replay(self.store, list(self.batch_runners.values()), progress=progress)

    def rebuild_projections(self, progress: Callable[[int], None] | None = None) -> ReplayReport:
        """Drop every read model and fact, then replay the whole store into them."""
        calendar = CalendarProjection()
        facts = WarehouseFactsProjection()
        self.documents.reset_projection(calendar.name, calendar.collections)
        read_models = ReadModelsProjection()
        self.documents.reset_projection(read_models.name, read_models.collections)
        # The refresh log too: every materialized report is then stale, whatever the
        # checkpoints add up to during the replay.
        self.warehouse.reset_projection(facts.name, (*facts.tables, REPORT_REFRESH))
        return replay(self.store, list(self.runners.values()), progress=progress)

    def close(self) -> None:
        self.store.close()
        self.documents.close()
        self.warehouse.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    dispatch_after_commit: bool = True,
) -> Platform:
    """Wire the platform. ``dispatch_after_commit``: publish each command's events as
    soon as they are committed (the outbox relay job catches whatever that misses)."""
    settings = settings or Settings()
    if settings.backend == "local":
        store, documents, warehouse, bus, subscribe = _local(settings)
    elif settings.backend == "gcp":
        store, documents, warehouse, bus, subscribe = _gcp(settings)
    else:  # pragma: no cover - the settings type admits only the two
        raise BackendUnavailable(f"unknown backend {settings.backend!r}")
    if settings.backend == "local":
        # The embedded warehouse is created on first use; BigQuery's schema is deployed
        # (terraform/, or `mymedic warehouse migrate`), never by a function cold start.
        warehouse.ensure_schema()
    live_runners: dict[str, ProjectionRunner[Any]] = {
        "calendar": ProjectionRunner(CalendarProjection(), documents, store),
        "read_models": ProjectionRunner(ReadModelsProjection(), documents, store),
    }
    batch_runners: dict[str, ProjectionRunner[Any]] = {
        "warehouse_facts": ProjectionRunner(WarehouseFactsProjection(), warehouse, store),
    }
    for name, runner in live_runners.items():
        subscribe(name, runner)
    relay = OutboxRelay(store, bus, settings.max_delivery_attempts)
    commands = CommandService(
        store, clock=clock, after_commit=relay.drain if dispatch_after_commit else None
    )
    return Platform(
        settings,
        store,
        bus,
        documents,
        warehouse,
        relay,
        commands,
        live_runners,
        batch_runners,
        clock=clock,
        secrets_factory=lambda: secret_store(settings),
    )


def secret_store(settings: Settings) -> SecretStore:
    """The tenants' secret store of the configured backend."""
    if settings.backend == "gcp":
        if not settings.gcp_project:
            raise BackendUnavailable("MYMEDIC_GCP_PROJECT is required for the gcp backend")
        from mymedic.adapters.gcp.secret_manager import SecretManagerStore

        return SecretManagerStore(
            SecretManagerStore.client(), settings.gcp_project, settings.gcp_timeout_seconds
        )
    from mymedic.adapters.local.secrets import FileSecretStore

    return FileSecretStore(settings.secrets_dir)


Subscribe = Callable[[str, Callable[[Any], None]], None]
Adapters = tuple[EventStore, DocumentStore, Warehouse, EventBus, Subscribe]


def _local(settings: Settings) -> Adapters:
    from mymedic.adapters.local.bus import InProcessBus
    from mymedic.adapters.local.documents import SqliteDocumentStore
    from mymedic.adapters.local.event_store import SqliteEventStore
    from mymedic.adapters.local.warehouse import DuckDbWarehouse

    bus = InProcessBus()
    return (
        SqliteEventStore(settings.event_store_path, settings.sqlite_synchronous),
        SqliteDocumentStore(settings.read_model_path, settings.sqlite_synchronous),
        DuckDbWarehouse(settings.warehouse_path),
        bus,
        bus.subscribe,
    )


def _gcp(settings: Settings) -> Adapters:
    """Firestore, Pub/Sub and BigQuery. Projections are not subscribed in-process here:
    Pub/Sub pushes each event to its projection function."""
    if not settings.gcp_project:
        raise BackendUnavailable("MYMEDIC_GCP_PROJECT is required for the gcp backend")
    from mymedic.adapters.gcp.bigquery_warehouse import BigQueryWarehouse
    from mymedic.adapters.gcp.firestore_client import firestore_client
    from mymedic.adapters.gcp.firestore_documents import FirestoreDocumentStore
    from mymedic.adapters.gcp.firestore_event_store import FirestoreEventStore
    from mymedic.adapters.gcp.pubsub_bus import PubSubBus

    db = firestore_client(
        settings.gcp_project, settings.firestore_database, settings.gcp_timeout_seconds
    )
    publisher = PubSubBus.client()
    topic = publisher.topic_path(settings.gcp_project, settings.pubsub_topic)

    def no_in_process_subscribers(name: str, handler: Callable[[Any], None]) -> None:
        """Subscriptions are Pub/Sub's: see terraform/ and the projection functions."""

    return (
        FirestoreEventStore(db, settings.gcp_timeout_seconds),
        FirestoreDocumentStore(db, settings.gcp_timeout_seconds),
        BigQueryWarehouse.from_settings(settings),
        PubSubBus(publisher, topic, settings.gcp_timeout_seconds),
        no_in_process_subscribers,
    )
