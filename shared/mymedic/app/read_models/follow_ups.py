"""The follow-up queue: one document per follow-up, ``open`` until an appointment that
names it is booked, ``booked`` while such an appointment stands, ``open`` again if it
is cancelled or missed.

A follow-up is scheduled on one appointment's stream and booked on another's, and
streams interleave arbitrarily (Pub/Sub does not order across them). So the document
keeps each booking that names it, keyed by appointment, and derives its status from
them: a booking seen before the follow-up leaves a placeholder (``scheduled`` false,
never listed), which the follow-up's own event completes. The result is the same in
either order.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from mymedic.app.read_models.names import FOLLOW_UP_BOOKINGS, FOLLOW_UPS
from mymedic.app.read_models.scope import branches_in_scope, scoped_query
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Document, DocumentStore, DocumentUnitOfWork

FollowUpStatus = Literal["open", "booked", "all"]
# A booking no longer answers its follow-up once it is cancelled or the patient missed it.
_ENDED = {e.AppointmentCancelled: "cancelled", e.AppointmentNoShow: "no_show"}


def apply_follow_ups(uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    tenant = event.tenant_id
    match data:
        case e.FollowUpScheduled():
            doc = _document(uow, tenant, data.follow_up_id)
            doc.update(
                scheduled=True,
                branch_id=event.branch_id,
                patient_id=data.patient_id,
                clinician_id=data.clinician_id,
                due_on=data.due_on.isoformat(),
                procedure_code=data.procedure_code,
                modality=data.modality,
                from_appointment_id=data.appointment_id,
                scheduled_at=event.occurred_at.isoformat(),
            )
            uow.put(FOLLOW_UPS, tenant, data.follow_up_id, _settled(doc))
        case e.AppointmentBooked() if data.follow_up_id is not None:
            link = {
                "tenant_id": tenant,
                "appointment_id": data.appointment_id,
                "follow_up_id": data.follow_up_id,
            }
            uow.put(FOLLOW_UP_BOOKINGS, tenant, data.appointment_id, link)
            booked = {
                "appointment_id": data.appointment_id,
                # Not checked against the follow-up's patient: the domain does not either.
                "patient_id": data.patient_id,
                "status": "booked",
                "start_at": data.start_at.isoformat(),
            }
            _change_booking(uow, tenant, data.follow_up_id, booked)
        case e.AppointmentRescheduled() | e.AppointmentCancelled() | e.AppointmentNoShow():
            _change_answering_booking(uow, tenant, data)


def _change_answering_booking(
    uow: DocumentUnitOfWork,
    tenant: str,
    data: e.AppointmentRescheduled | e.AppointmentCancelled | e.AppointmentNoShow,
) -> None:
    """A change to an appointment that answers a follow-up (if it does)."""
    link = uow.get(FOLLOW_UP_BOOKINGS, tenant, data.appointment_id)
    if link is None:
        return
    doc = _document(uow, tenant, link["follow_up_id"])
    booking = next((b for b in doc["bookings"] if b["appointment_id"] == data.appointment_id), None)
    if booking is None:  # written with the link: only a hand-edited store lacks it
        return
    if isinstance(data, e.AppointmentRescheduled):
        changed = {**booking, "start_at": data.start_at.isoformat()}
    else:
        changed = {**booking, "status": _ENDED[type(data)]}
    _change_booking(uow, tenant, link["follow_up_id"], changed)


def _document(uow: DocumentUnitOfWork, tenant: str, follow_up_id: str) -> Document:
    existing = uow.get(FOLLOW_UPS, tenant, follow_up_id)
    if existing is not None:
        return dict(existing)
    return {"tenant_id": tenant, "follow_up_id": follow_up_id, "scheduled": False, "bookings": []}


def _change_booking(
    uow: DocumentUnitOfWork, tenant: str, follow_up_id: str, booking: dict[str, Any]
) -> None:
    doc = _document(uow, tenant, follow_up_id)
    others = [b for b in doc["bookings"] if b["appointment_id"] != booking["appointment_id"]]
    doc["bookings"] = sorted([*others, booking], key=lambda b: b["appointment_id"])
    uow.put(FOLLOW_UPS, tenant, follow_up_id, _settled(doc))


def _settled(doc: Document) -> Document:
    standing = sorted(
        (b for b in doc["bookings"] if b["status"] == "booked"),
        key=lambda b: (b["start_at"], b["appointment_id"]),
    )
    doc["status"] = "booked" if standing else "open"
    doc["booked_appointment_id"] = standing[0]["appointment_id"] if standing else None
    return doc


def follow_up_queue(
    documents: DocumentStore,
    tenant_id: str,
    *,
    branch_id: str | None = None,
    clinician_id: str | None = None,
    city: str | None = None,
    patient_id: str | None = None,
    status: FollowUpStatus = "open",
    due_before: date | None = None,
) -> dict[str, Any]:
    """Follow-ups matching every filter given (``status="all"``: either status;
    ``due_before``: due strictly before that date), the most overdue first."""
    branches = branches_in_scope(documents, tenant_id, branch_id, city)
    where = {
        "scheduled": True,
        "status": None if status == "all" else status,
        "clinician_id": clinician_id,
        "patient_id": patient_id,
    }
    rows = scoped_query(documents, FOLLOW_UPS, tenant_id, where, branches)
    if due_before is not None:
        rows = [row for row in rows if row["due_on"] < due_before.isoformat()]
    rows.sort(key=lambda row: (row["due_on"], row["follow_up_id"]))
    return {"tenant_id": tenant_id, "status": status, "count": len(rows), "follow_ups": rows}
