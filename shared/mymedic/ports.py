"""The interfaces the local and gcp adapters meet on. No adapter is imported here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from pydantic import SecretStr

from mymedic.domain.envelope import EventEnvelope

Document = dict[str, Any]
T = TypeVar("T")
Row = dict[str, Any]


class ConcurrencyConflict(Exception):
    """The stream is not at the version the writer expected (HTTP 409)."""

    def __init__(self, tenant_id: str, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id} of tenant {tenant_id} is at version {actual}, expected {expected}"
        )
        self.tenant_id = tenant_id
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class TransientBackendError(Exception):
    """A backend could not be reached or answered in time: retry later (HTTP 503; a
    projection function raises it so that Pub/Sub redelivers)."""


class EventIdReused(Exception):
    """An event id already stored names a different event: a client bug, never a retry."""


@dataclass(frozen=True)
class StoredEvent:
    global_position: int
    envelope: EventEnvelope


@dataclass(frozen=True)
class AppendResult:
    stream_id: str
    stream_version: int
    event_ids: tuple[str, ...]
    # True when every event was already stored (an idempotent retry): nothing was written.
    duplicate: bool


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream, to be appended if the stream is at ``expected_version``."""

    stream_id: str
    expected_version: int
    events: Sequence[EventEnvelope]


@dataclass(frozen=True)
class DeadLetter:
    global_position: int
    event_id: str
    attempts: int
    reason: str


class EventStore(Protocol):
    def append(
        self,
        tenant_id: str,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventEnvelope],
    ) -> AppendResult:
        """Append atomically, with the events' outbox entries, if the stream is at
        ``expected_version``; an append whose event ids are all stored is a no-op."""
        ...

    def append_streams(self, tenant_id: str, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        """Append to several streams of one tenant in one transaction: all or nothing,
        each stream checked against its expected version (a command that must keep an
        invariant across aggregates, such as one booking per clinician and slot)."""
        ...

    def stream_version(self, tenant_id: str, stream_id: str) -> int: ...

    def read_stream(
        self,
        tenant_id: str,
        stream_id: str,
        after_version: int = 0,
        up_to_version: int | None = None,
    ) -> list[EventEnvelope]: ...

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]: ...

    def head_position(self) -> int:
        """The global position of the newest event (0 for an empty store)."""
        ...

    def pending_outbox(self, after_position: int = 0, limit: int = 500) -> list[StoredEvent]: ...

    def mark_published(self, positions: Sequence[int]) -> None: ...

    def record_delivery_failure(self, position: int, reason: str, max_attempts: int) -> bool:
        """Count a failed delivery; past ``max_attempts`` move it to the dead letters.
        Returns True when it was dead-lettered."""
        ...

    def dead_letters(self) -> list[DeadLetter]: ...

    def requeue_dead_letters(self, positions: Sequence[int] | None = None) -> int:
        """Put dead letters back in the outbox (all, or those named); returns how many."""
        ...

    def close(self) -> None: ...


class AppendsOneStream:
    """``append`` for an event store that implements ``append_streams``."""

    def append_streams(self, tenant_id: str, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        raise NotImplementedError

    def append(
        self,
        tenant_id: str,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventEnvelope],
    ) -> AppendResult:
        [result] = self.append_streams(
            tenant_id, [StreamAppend(stream_id, expected_version, events)]
        )
        return result


def check_appends(tenant_id: str, appends: Sequence[StreamAppend]) -> None:
    if not appends:
        raise ValueError("nothing to append")
    if len({a.stream_id for a in appends}) != len(appends):
        raise ValueError("a stream appears twice in one append")
    for append in appends:
        check_new_events(tenant_id, append.stream_id, append.expected_version, append.events)


def check_new_events(
    tenant_id: str, stream_id: str, expected_version: int, events: Sequence[EventEnvelope]
) -> None:
    """What every event store checks before it writes: the events belong to this stream
    and continue it from ``expected_version`` without a gap."""
    if not events:
        raise ValueError("nothing to append")
    for offset, event in enumerate(events, start=1):
        if (event.tenant_id, event.stream_id) != (tenant_id, stream_id):
            raise ValueError(f"event {event.event_id} belongs to another stream")
        if event.stream_version != expected_version + offset:
            raise ValueError(
                f"event {event.event_id} has version {event.stream_version}, "
                f"expected {expected_version + offset}"
            )


Subscriber = Callable[[EventEnvelope], None]


class EventBus(Protocol):
    def publish(self, event: EventEnvelope) -> None:
        """Deliver or hand over one event; raise if it was not (the outbox keeps it)."""
        ...


class CheckpointedUnitOfWork(Protocol):
    """One atomic write to a projection target: its changes and its checkpoints commit
    together, so a redelivered or replayed event is recognised and changes nothing."""

    def checkpoint(self, projection: str, tenant_id: str, stream_id: str) -> int: ...

    def set_checkpoint(
        self, projection: str, tenant_id: str, stream_id: str, version: int
    ) -> None: ...

    def prefetch_checkpoints(self, projection: str, streams: Iterable[tuple[str, str]]) -> None:
        """Load the checkpoints of these (tenant, stream) pairs in one round trip."""
        ...


class DocumentUnitOfWork(CheckpointedUnitOfWork, Protocol):
    def get(self, collection: str, tenant_id: str, doc_id: str) -> Document | None: ...

    def put(self, collection: str, tenant_id: str, doc_id: str, doc: Document) -> None: ...

    def delete(self, collection: str, tenant_id: str, doc_id: str) -> None: ...


class DocumentStore(Protocol):
    def transact(self, work: Callable[[DocumentUnitOfWork], T]) -> T:
        """Run ``work`` as one atomic unit of work and return its result. It may be run
        more than once (contention retries), so it must act only through the unit."""
        ...

    def get(self, collection: str, tenant_id: str, doc_id: str) -> Document | None: ...

    def query(
        self, collection: str, tenant_id: str, where: dict[str, Any] | None = None
    ) -> list[Document]:
        """Documents of one tenant whose top-level fields equal ``where``'s values."""
        ...

    def reset_projection(self, projection: str, collections: Iterable[str]) -> None:
        """Drop a projection's documents and checkpoints, for a rebuild."""
        ...

    def close(self) -> None: ...


class WarehouseUnitOfWork(CheckpointedUnitOfWork, Protocol):
    def get_row(self, table: str, key: tuple[Any, ...]) -> Row | None: ...

    def put_row(self, table: str, row: Row) -> None: ...

    def prefetch(self, table: str, keys: Iterable[tuple[Any, ...]]) -> None:
        """Load these rows (and nothing else) in one round trip before a batch."""
        ...


@dataclass(frozen=True)
class DateRange:
    """``column`` between ``start`` and ``end``, both days included."""

    column: str
    start: date
    end: date


class Warehouse(Protocol):
    def ensure_schema(self) -> None: ...

    def transact(self, work: Callable[[WarehouseUnitOfWork], T]) -> T:
        """As DocumentStore.transact: one atomic unit of work, possibly retried."""
        ...

    def query(
        self,
        sql_name: str,
        params: dict[str, Any] | None = None,
        *,
        between: DateRange | None = None,
    ) -> list[Row]:
        """Run a named report view, filtered by the given columns (equal) and range."""
        ...

    def columns(self, sql_name: str) -> list[str]:
        """The columns of a view or table, in order (a report's headers when it is empty)."""
        ...

    def headline(
        self,
        view: str,
        tenant_id: str,
        start: date,
        end: date,
        *,
        branches: Sequence[str] | None = None,
        by: Sequence[str] = (),
    ) -> list[Row]:
        """The headline figures of a report view (bigquery/headlines/<view>.sql) for one
        tenant, the rows of its date column from ``start`` to ``end`` (both included) and
        ``branches`` (None: every branch), each computed by the warehouse at its own grain
        over the whole range: distinct counts counted once, medians over every row,
        rates as ratios of sums; money per currency. One row per currency (or one), or per
        value of the ``by`` dimensions too; ordered by them."""
        ...

    def fact_tenants(self) -> list[str]:
        """Every tenant the facts projection has applied events of, sorted: the tenants
        whose reports exist, however their data arrived (commands, Zoho, gateways)."""
        ...

    def facts_version(self, tenant_id: str) -> int:
        """A number that changes whenever the facts projection applies an event of the
        tenant (the sum of its checkpoint versions)."""
        ...

    def refresh_materialized(self, view: str, tenant_id: str, refreshed_at: datetime) -> None:
        """Recompute ``mat_<view>`` for the tenant from the view, atomically, and record
        it in report_refresh with the facts version of the same snapshot."""
        ...

    def reset_projection(self, projection: str, tables: Iterable[str]) -> None: ...

    def close(self) -> None: ...


class SecretStore(Protocol):
    """A tenant's own secrets (an integration account's refresh token, a webhook's
    channel token): a 0600 file per tenant on the embedded default, Secret Manager on
    GCP. Values never reach logs, errors or ``repr``."""

    def get(self, tenant_id: str, name: str) -> SecretStr | None:
        """The secret's current value, or None when it was never set."""
        ...

    def put(self, tenant_id: str, name: str, value: str) -> None:
        """Set (or replace) the secret; the old value is no longer returned."""
        ...


SECRET_NAME = r"^[a-z][a-z0-9_]{0,62}$"  # noqa: S105 - the pattern of a secret's name
