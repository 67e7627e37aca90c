"""The warehouse's ``fct_clinician_block``: one row per block of a clinician's time
(leave, a meeting, a training), part of the warehouse facts projection. A block puts
the row, active; a block registered again with the same block_id (Zoho: its times
changed) puts it again with the new times; an unblock reads the row and keeps it,
inactive, so that the row says what was lifted. The projection applies a clinician's
events in its stream's order and skips what it applied before (its checkpoint), so a
replay or a redelivery writes the same row. int_clinician_day takes the active blocks
off the clinicians' working hours."""

from __future__ import annotations

from collections.abc import Sequence

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

BLOCKS = "fct_clinician_block"
BLOCK_TABLES = (BLOCKS,)
CATEGORIES = frozenset({e.ClinicianTimeBlocked.category})
EVENT_TYPES = frozenset({e.ClinicianTimeBlocked.event_type, e.ClinicianTimeUnblocked.event_type})


def prefetch_blocks(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    keys = [
        (ev.tenant_id, ev.payload["clinician_id"], ev.payload["block_id"])
        for ev in events
        if ev.event_type == e.ClinicianTimeUnblocked.event_type
    ]
    if keys:
        uow.prefetch(BLOCKS, keys)


def apply_block(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    audit = {"updated_at": event.occurred_at, "last_event_id": event.event_id}
    match data:
        case e.ClinicianTimeBlocked():
            if not event.branch_id or event.branch_id == "*":
                raise ValueError(f"block {data.block_id} of {data.clinician_id} names no branch")
            uow.put_row(
                BLOCKS,
                {
                    "tenant_id": event.tenant_id,
                    "branch_id": event.branch_id,
                    "clinician_id": data.clinician_id,
                    "block_id": data.block_id,
                    "start_at": data.start_at,
                    "end_at": data.end_at,
                    "is_active": True,
                    **audit,
                },
            )
        case e.ClinicianTimeUnblocked():
            row = uow.get_row(BLOCKS, (event.tenant_id, data.clinician_id, data.block_id))
            if row is None:
                raise LookupError(
                    f"fct_clinician_block has no {data.block_id} of {data.clinician_id} "
                    f"of {event.tenant_id}"
                )
            uow.put_row(BLOCKS, {**row, "is_active": False, **audit})
