"""The warehouse's ``hist_clinician`` and ``hist_room``: every registration of a
clinician or room as a version of its own (a room's with its equipment codes), keyed
by when it took effect. Versions are only ever added, never closed here: the marts'
``dim_clinician`` and ``dim_room`` derive valid_to and is_current in SQL, so the rows
never depend on the order of delivery."""

from __future__ import annotations

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

CLINICIANS = "hist_clinician"
ROOMS = "hist_room"
HISTORY_TABLES = (CLINICIANS, ROOMS)
CATEGORIES = frozenset({e.ClinicianRegistered.category, e.RoomRegistered.category})
EVENT_TYPES = frozenset({e.ClinicianRegistered.event_type, e.RoomRegistered.event_type})


def apply_directory_history(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    if not isinstance(data, e.ClinicianRegistered | e.RoomRegistered):
        return
    row = {
        "tenant_id": event.tenant_id,
        "branch_id": data.branch_id,
        "display_name": data.display_name,
        "modalities": ",".join(data.modalities),
        "valid_from": event.occurred_at,
        "last_event_id": event.event_id,
    }
    if isinstance(data, e.ClinicianRegistered):
        uow.put_row(CLINICIANS, {**row, "clinician_id": data.clinician_id})
    else:
        equipment = ",".join(data.equipment) or None
        uow.put_row(ROOMS, {**row, "room_id": data.room_id, "equipment": equipment})
