"""The warehouse's ``fct_complaint``: one row per patient complaint, at its latest
status. Part of the warehouse facts projection, which applies a complaint's events in
its stream's order: the recording puts the row (open), each status change after it
reads and rewrites it. resolved_at is the time of the latest change to resolved or
closed, and null again once the complaint is reopened; so the row depends only on the
events of its stream, and applying them again leaves it as it was. The complaint's
text travels in the envelope's personal part and is never read here."""

from __future__ import annotations

from collections.abc import Sequence

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

COMPLAINTS = "fct_complaint"
COMPLAINT_TABLES = (COMPLAINTS,)
CATEGORIES = frozenset({e.ComplaintRecorded.category})
EVENT_TYPES = frozenset({e.ComplaintRecorded.event_type, e.ComplaintStatusChanged.event_type})
_CLOSING = frozenset({"resolved", "closed"})


def prefetch_complaints(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    keys = [
        (ev.tenant_id, ev.payload["complaint_id"])
        for ev in events
        if ev.event_type == e.ComplaintStatusChanged.event_type
    ]
    if keys:
        uow.prefetch(COMPLAINTS, keys)


def apply_complaint(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    audit = {"updated_at": event.occurred_at, "last_event_id": event.event_id}
    match data:
        case e.ComplaintRecorded():
            uow.put_row(
                COMPLAINTS,
                {
                    "tenant_id": event.tenant_id,
                    "branch_id": event.branch_id if event.branch_id != "*" else None,
                    "complaint_id": data.complaint_id,
                    "patient_id": data.patient_id,
                    "appointment_id": data.appointment_id,
                    "complaint_category": data.complaint_category,
                    "status": "open",
                    "opened_at": event.occurred_at,
                    "resolved_at": None,
                    **audit,
                },
            )
        case e.ComplaintStatusChanged():
            row = uow.get_row(COMPLAINTS, (event.tenant_id, data.complaint_id))
            if row is None:
                raise LookupError(f"fct_complaint has no {data.complaint_id} of {event.tenant_id}")
            resolved_at = event.occurred_at if data.status in _CLOSING else None
            uow.put_row(
                COMPLAINTS, {**row, "status": data.status, "resolved_at": resolved_at, **audit}
            )
