"""Schedule entries: one document per resource, holder and clinic day, from the
schedule streams (an appointment's reserved interval, or a clinician's blocked time cut
at the branch's midnights), deleted when released or unblocked; and a doctor's day.

One document per holder and day, never one per resource-day: a busy day's bookings
each write their own document, so none of them contends for a hot one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from mymedic.app.calendar import CALENDAR
from mymedic.app.read_models.directory import require_branch, require_clinician, working_intervals
from mymedic.app.read_models.names import SCHEDULE_ENTRIES
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Document, DocumentStore, DocumentUnitOfWork

# The calendar's fields a doctor's appointment entry is completed with.
_FROM_CALENDAR = ("patient_id", "room_id", "modality", "procedure_code", "channel", "status")


def entry_id(kind: str, resource_id: str, day: date, holder: str) -> str:
    return f"{kind}:{resource_id}:{day.isoformat()}:{holder}"


def apply_schedule(uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    tenant = event.tenant_id
    match data:
        case e.SlotReserved():
            doc_id = entry_id(data.resource_kind, data.resource_id, data.day, data.appointment_id)
            entry = _entry(event, data.resource_kind, data.resource_id, data.day, data)
            entry.update(kind="appointment", appointment_id=data.appointment_id)
            uow.put(SCHEDULE_ENTRIES, tenant, doc_id, entry)
        case e.SlotReleased():
            doc_id = entry_id(data.resource_kind, data.resource_id, data.day, data.appointment_id)
            uow.delete(SCHEDULE_ENTRIES, tenant, doc_id)
        case e.TimeBlocked():
            holder = f"block:{data.block_id}"
            doc_id = entry_id(data.resource_kind, data.resource_id, data.day, holder)
            entry = _entry(event, data.resource_kind, data.resource_id, data.day, data)
            entry.update(kind="block", block_id=data.block_id)
            uow.put(SCHEDULE_ENTRIES, tenant, doc_id, entry)
        case e.TimeUnblocked():
            holder = f"block:{data.block_id}"
            doc_id = entry_id(data.resource_kind, data.resource_id, data.day, holder)
            uow.delete(SCHEDULE_ENTRIES, tenant, doc_id)


def _entry(
    event: EventEnvelope,
    kind: str,
    resource_id: str,
    day: date,
    data: e.SlotReserved | e.TimeBlocked,
) -> dict[str, Any]:
    return {
        "tenant_id": event.tenant_id,
        "branch_id": event.branch_id,
        "resource_kind": kind,
        "resource_id": resource_id,
        f"{kind}_id": resource_id,
        "date": day.isoformat(),
        "start_at": data.start_at.isoformat(),
        "end_at": data.end_at.isoformat(),
    }


def entries_of(
    documents: DocumentStore, tenant_id: str, kind: str, resource_id: str, day: date
) -> list[Document]:
    """A resource's entries on a clinic day, in start order."""
    entries = documents.query(
        SCHEDULE_ENTRIES,
        tenant_id,
        {"resource_kind": kind, "resource_id": resource_id, "date": day.isoformat()},
    )
    return sorted(entries, key=entry_order)


def entry_order(entry: Document) -> tuple[datetime, datetime, str]:
    return (
        instant(entry["start_at"]),
        instant(entry["end_at"]),
        entry.get("appointment_id") or entry.get("block_id") or "",
    )


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def doctor_schedule(
    documents: DocumentStore, tenant_id: str, clinician_id: str, day: date
) -> dict[str, Any]:
    """A clinician's clinic day: the working hours of its weekday, its appointments
    (completed from the calendar read model where it has them) and its blocked time,
    each in start order."""
    clinician = require_clinician(documents, tenant_id, clinician_id)
    branch = require_branch(documents, tenant_id, clinician["branch_id"])
    zone = ZoneInfo(branch["timezone"])
    appointments: list[Document] = []
    blocks: list[Document] = []
    for entry in entries_of(documents, tenant_id, "clinician", clinician_id, day):
        if entry["kind"] == "block":
            blocks.append(entry)
            continue
        booked = documents.get(CALENDAR, tenant_id, entry["appointment_id"]) or {}
        appointments.append({**entry, **{k: booked[k] for k in _FROM_CALENDAR if k in booked}})
    return {
        "tenant_id": tenant_id,
        "clinician_id": clinician_id,
        "display_name": clinician["display_name"],
        "branch_id": clinician["branch_id"],
        "timezone": branch["timezone"],
        "date": day.isoformat(),
        "weekday": day.weekday(),
        "modalities": clinician["modalities"],
        "working_hours": [
            {
                "start_at": start.astimezone(zone).isoformat(),
                "end_at": end.astimezone(zone).isoformat(),
            }
            for start, end in working_intervals(clinician, day, zone)
        ],
        "appointments": appointments,
        "blocks": blocks,
    }
