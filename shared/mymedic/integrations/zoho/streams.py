"""The bookkeeping streams of Zoho ingestion and the deterministic ids of its events.

- ``zoho:{module}:{record_id}``: one per CRM record, ``zoho.record_synced`` for every
  version that became canonical events and ``integration.record_quarantined`` for every
  version that could not. It is what makes ingestion idempotent across paths: a version
  is ingested once, whichever of webhook, delta sync or backfill brings it first.
- ``zoho_backfill:{module}``: the Bulk Read backfill's resume point.
- ``zoho_sync:{module}``: the delta sync's watermark.

Event ids are UUID v5 of (tenant, module, record id, version, index), so the same
record version always yields the same ids: two paths racing on one version append the
same events, and the store refuses or ignores the second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import orjson

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope

# Namespace of the event ids of Zoho ingestion (fixed: ids must never change).
ZOHO_NAMESPACE = UUID("5f0d3c2a-8e41-4b7f-a1c6-0d9e7b3a2f58")
SYNCED_INDEX = 0  # the zoho.record_synced event of a version; canonical events are 1..n


def record_stream(module: str, record_id: str) -> str:
    return e.stream_id("zoho", f"{module}:{record_id}")


def backfill_stream(module: str) -> str:
    return e.stream_id(e.ZohoBackfillProgressed.category, module)


def sync_stream(module: str) -> str:
    return e.stream_id(e.ZohoSyncWatermarkAdvanced.category, module)


def version_key(modified_time: datetime) -> str:
    """A record version: its Modified_Time in UTC (second resolution in Zoho)."""
    if modified_time.utcoffset() is None:
        raise ValueError("Modified_Time must carry a timezone")
    return modified_time.astimezone(UTC).isoformat()


def raw_version_key(fields: dict[str, Any]) -> str:
    """The version of a record without a usable Modified_Time: a digest of its fields."""
    body = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS, default=str)
    return "raw:" + hashlib.sha256(body).hexdigest()


def zoho_event_id(tenant_id: str, module: str, record_id: str, version: str, index: str) -> str:
    name = "\x1f".join((tenant_id, module, record_id, version, index))
    return str(uuid5(ZOHO_NAMESPACE, name))


def quarantine_index(mapping_version: int | None) -> str:
    """A quarantine is recorded once per record version and mapping version, so that a
    fixed mapping (a new version) may take the record up again."""
    return f"quarantine:{mapping_version if mapping_version is not None else '-'}"


@dataclass(frozen=True)
class RecordHistory:
    """What a record stream says: the newest version synced (its Modified_Time and
    content digest), what it became, and every event id."""

    version: int = 0
    synced_through: datetime | None = None
    event_ids: frozenset[str] = frozenset()
    content_hash: str | None = None  # of the newest version synced
    entity_id: str | None = None  # the canonical id the record became
    target_stream: str | None = None


def record_history(events: Iterable[EventEnvelope]) -> RecordHistory:
    version = 0
    latest: e.ZohoRecordSynced | None = None
    ids: set[str] = set()
    for envelope in events:
        version = envelope.stream_version
        ids.add(envelope.event_id)
        data = envelope.data()
        if isinstance(data, e.ZohoRecordSynced) and (
            latest is None or data.modified_time >= latest.modified_time
        ):
            latest = data
    if latest is None:
        return RecordHistory(version, None, frozenset(ids))
    return RecordHistory(
        version,
        latest.modified_time,
        frozenset(ids),
        latest.content_hash,
        latest.became_id or latest.target_stream.split(":", 1)[1],
        latest.target_stream,
    )


def content_hash(values: dict[str, Any]) -> str:
    """A digest of a version's canonical content, whatever shape it came in."""
    body = orjson.dumps(values, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(body).hexdigest()


def refreshed_version_key(modified_time: datetime, digest: str) -> str:
    """A version that shares its Modified_Time with the one synced before it (a formula
    field changed): told apart by its content."""
    return f"{version_key(modified_time)}#{digest[:16]}"


@dataclass(frozen=True)
class BackfillState:
    """The backfill of one module, folded from ``zoho_backfill:{module}``."""

    version: int = 0  # of the stream
    job_id: str | None = None
    page: int = 1
    rows_committed: int = 0
    more_records: bool | None = None
    finished: bool = False
    total_rows: int | None = None


def backfill_state(events: Iterable[EventEnvelope]) -> BackfillState:
    state = BackfillState()
    for envelope in events:
        data = envelope.data()
        if isinstance(data, e.ZohoBackfillProgressed):
            state = BackfillState(
                version=envelope.stream_version,
                job_id=data.job_id,
                page=data.page,
                rows_committed=data.rows_committed,
                more_records=data.more_records,
                finished=data.finished,
                total_rows=data.total_rows,
            )
    return state


@dataclass(frozen=True)
class SyncState:
    """The delta sync of one module, folded from ``zoho_sync:{module}``."""

    version: int = 0
    modified_through: datetime | None = None


def sync_state(events: Iterable[EventEnvelope]) -> SyncState:
    state = SyncState()
    for envelope in events:
        data = envelope.data()
        if isinstance(data, e.ZohoSyncWatermarkAdvanced):
            through = data.modified_through
            if state.modified_through is not None and state.modified_through > through:
                through = state.modified_through
            state = SyncState(envelope.stream_version, through)
    return state
