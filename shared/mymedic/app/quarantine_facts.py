"""The warehouse's ``integration_quarantine``: records an integration could not ingest.

Part of the warehouse facts projection. A quarantined record version puts its row (one
per record, at its latest quarantine); a version synced later that is at least as new
resolves it. Only the reason's kind and field reach the warehouse, never a value.
"""

from __future__ import annotations

from collections.abc import Sequence

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

QUARANTINE = "integration_quarantine"
CATEGORY = "zoho"
_TYPES = frozenset({e.RecordQuarantined.event_type, e.ZohoRecordSynced.event_type})


def prefetch_quarantine(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    keys = [
        (ev.tenant_id, "zoho", ev.payload["module"], ev.payload["record_id"])
        for ev in events
        if ev.category == CATEGORY and ev.event_type in _TYPES
    ]
    if keys:
        uow.prefetch(QUARANTINE, keys)


def apply_quarantine(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    audit = {"updated_at": event.occurred_at, "last_event_id": event.event_id}
    match data:
        case e.RecordQuarantined():
            uow.put_row(
                QUARANTINE,
                {
                    "tenant_id": event.tenant_id,
                    "source": data.source,
                    "module": data.module,
                    "record_id": data.record_id,
                    "modified_time": data.modified_time,
                    "reason": data.reason,
                    "field": data.field,
                    "mapping_version": data.mapping_version,
                    "quarantined_at": event.recorded_at,
                    "resolved_at": None,
                    **audit,
                },
            )
        case e.ZohoRecordSynced():
            row = uow.get_row(QUARANTINE, (event.tenant_id, "zoho", data.module, data.record_id))
            if row is None or row["resolved_at"] is not None:
                return
            if row["modified_time"] is not None and data.modified_time < row["modified_time"]:
                return  # an older version than the one quarantined
            uow.put_row(QUARANTINE, {**row, "resolved_at": event.recorded_at, **audit})
