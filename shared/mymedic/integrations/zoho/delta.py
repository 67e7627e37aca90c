"""The hourly delta sync of one Zoho module: what webhooks missed, by ``Modified_Time``.

The watermark is folded from ``zoho_sync:{module}``. A run lists every record modified
since the watermark less an overlap (Modified_Time has second resolution, and Zoho's
clock and ours drift: a record saved in the watermark's second, or a little before it
as we see time, must not be missed), ingests them (what was ingested already is
recognised as a duplicate) and only then moves the watermark to the newest
Modified_Time seen. A run that fails midway keeps what it ingested but leaves the
watermark where it was, so the next run reads the same window again.

Formula fields do not bump Modified_Time: their changes need a periodic full refresh
(a backfill with ``restart``), not this sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mymedic.app.commands import utc_now
from mymedic.domain import events as e
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.integrations.zoho.client import ZohoClient
from mymedic.integrations.zoho.ingest import ACTOR, IngestStats, Item, Unreadable, ZohoIngestor
from mymedic.integrations.zoho.mapping import mapping_fields
from mymedic.integrations.zoho.records import Quarantined
from mymedic.integrations.zoho.streams import (
    SyncState,
    sync_state,
    sync_stream,
    version_key,
    zoho_event_id,
)
from mymedic.ports import ConcurrencyConflict, EventStore, StreamAppend

log = logging.getLogger(__name__)

DEFAULT_OVERLAP = timedelta(minutes=5)


@dataclass
class DeltaResult:
    module: str
    since: datetime | None  # what was asked of Zoho (the watermark less the overlap)
    watermark: datetime | None  # after the run
    advanced: bool = False
    stats: IngestStats = field(default_factory=IngestStats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "since": self.since.isoformat() if self.since else None,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "advanced": self.advanced,
            **self.stats.to_dict(),
        }


class ZohoDeltaSync:
    def __init__(
        self,
        client: ZohoClient,
        ingestor: ZohoIngestor,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if overlap < timedelta(0):
            raise ValueError("the overlap cannot be negative")
        self._client = client
        self._ingestor = ingestor
        self._store = ingestor.store
        self._tenant = ingestor.tenant_id
        self._overlap = overlap
        self._clock = clock

    def state(self, module: str) -> SyncState:
        return sync_state(self._store.read_stream(self._tenant, sync_stream(module)))

    def run(self, module: str) -> DeltaResult:
        fields = mapping_fields(self._ingestor.mapping, module)
        state = self.state(module)
        since = state.modified_through - self._overlap if state.modified_through else None
        result = DeltaResult(module, since, state.modified_through)
        records = self._listing(module, fields, since)
        # Raises (after the client's own retries) with the watermark untouched.
        result.stats = self._ingestor.ingest(records, "delta")
        newest = result.stats.modified_through
        if newest is not None and (
            state.modified_through is None or newest > state.modified_through
        ):
            result.advanced = self._advance(module, state, newest, result.stats.seen)
            result.watermark = self.state(module).modified_through
        return result

    def _listing(self, module: str, fields: list[str], since: datetime | None) -> Iterator[Item]:
        """The listing, with records Zoho sends without a usable id or Modified_Time
        passed on to be quarantined in their place instead of stopping the run."""
        malformed: list[Item] = []

        def keep(name: str, record: dict[str, Any], reason: str) -> None:
            record_id = str(record.get("id") or "unknown")
            where = Quarantined(name, record_id, None, reason, "Modified_Time")
            malformed.append(Unreadable(where, record))

        for record in self._client.records(module, fields, modified_since=since, on_malformed=keep):
            yield from malformed
            malformed.clear()
            yield record
        yield from malformed

    def start_after_backfill(self, module: str, through: datetime) -> bool:
        """Give a module that has no watermark yet the newest Modified_Time a finished
        backfill read, so that the first delta sync lists what changed since the Bulk
        Read snapshot instead of the whole module over REST."""
        state = self.state(module)
        if state.modified_through is not None:
            return False
        return self._advance(module, state, through, 0)

    def _advance(self, module: str, state: SyncState, through: datetime, seen: int) -> bool:
        return advance_watermark(
            self._store, self._tenant, module, through, seen, clock=self._clock, state=state
        )


def advance_watermark(
    store: EventStore,
    tenant_id: str,
    module: str,
    through: datetime,
    seen: int,
    *,
    clock: Callable[[], datetime],
    source: str = "zoho:delta",
    state: SyncState | None = None,
) -> bool:
    """Move ``zoho_sync:{module}`` to ``through``; False if it was there (or beyond)
    already. ``state`` is the stream as last read, if the caller has it."""
    if state is None:
        state = sync_state(store.read_stream(tenant_id, sync_stream(module)))
    for _ in range(3):
        if state.modified_through is not None and state.modified_through >= through:
            return False
        append = _watermark(
            tenant_id, module, state, through, seen=seen, now=clock(), source=source
        )
        try:
            store.append_streams(tenant_id, [append])
        except ConcurrencyConflict:
            # Another run moved the watermark meanwhile: keep the later of the two.
            state = sync_state(store.read_stream(tenant_id, sync_stream(module)))
            continue
        return True
    log.warning("zoho sync of %s: the watermark kept moving; left as it is", module)
    return False


def _watermark(
    tenant_id: str,
    module: str,
    state: SyncState,
    through: datetime,
    *,
    seen: int,
    now: datetime,
    source: str,
) -> StreamAppend:
    payload = e.ZohoSyncWatermarkAdvanced(
        module=module, modified_through=through, records_seen=seen
    )
    envelope = build_envelope(
        payload,
        metadata=Metadata(tenant_id=tenant_id, actor=ACTOR, source=source),
        branch_id="*",
        stream_version=state.version + 1,
        occurred_at=now,
        recorded_at=now,
        event_id=zoho_event_id(
            tenant_id, module, "$sync", version_key(through), f"v{state.version + 1}"
        ),
    )
    return StreamAppend(sync_stream(module), state.version, [envelope])
