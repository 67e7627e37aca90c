"""The clinic calendar read model: one document per appointment, found by branch and day.

One document per appointment, not one per branch-day: every event of an appointment
touches only its own document, so concurrent deliveries never contend, and Firestore's
limit of about one sustained write per second per document never binds, even when a
backfill lands a whole branch-day at once. A day's calendar is a query on
``branch_id`` and ``date`` (a composite index in Firestore); its counts per status
are computed from that query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import DocumentStore, DocumentUnitOfWork

CALENDAR = "calendar"

_STATUS_AFTER = {
    e.AppointmentArrived: "arrived",
    e.AppointmentCancelled: "cancelled",
    e.AppointmentCompleted: "completed",
    e.AppointmentNoShow: "no_show",
}


class CalendarProjection:
    name = "calendar"
    categories = frozenset({"appointment"})
    collections = (CALENDAR,)

    def prefetch(self, uow: DocumentUnitOfWork, events: Sequence[EventEnvelope]) -> None:
        """Documents are read by key on demand."""

    def apply(self, uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
        data = event.data()
        tenant = event.tenant_id
        match data:
            case e.AppointmentBooked():
                entry = {
                    "tenant_id": tenant,
                    "branch_id": event.branch_id,
                    "appointment_id": data.appointment_id,
                    "patient_id": data.patient_id,
                    "clinician_id": data.clinician_id,
                    "room_id": data.room_id,
                    "modality": data.modality,
                    "procedure_code": data.procedure_code,
                    "channel": data.channel.value,
                    "status": "booked",
                    **_times(data.start_at, data.duration_minutes),
                }
                uow.put(CALENDAR, tenant, data.appointment_id, entry)
            case e.AppointmentRescheduled():
                entry = _existing(uow, tenant, data.appointment_id)
                entry.update(
                    clinician_id=data.clinician_id,
                    room_id=data.room_id,
                    **_times(data.start_at, data.duration_minutes),
                )
                uow.put(CALENDAR, tenant, data.appointment_id, entry)
            case (
                e.AppointmentArrived()
                | e.AppointmentCancelled()
                | e.AppointmentCompleted()
                | e.AppointmentNoShow()
            ):
                entry = _existing(uow, tenant, data.appointment_id)
                entry["status"] = _STATUS_AFTER[type(data)]
                uow.put(CALENDAR, tenant, data.appointment_id, entry)


def _existing(uow: DocumentUnitOfWork, tenant: str, appointment_id: str) -> dict[str, Any]:
    entry = uow.get(CALENDAR, tenant, appointment_id)
    if entry is None:
        raise LookupError(f"appointment {appointment_id} is not on the calendar")
    return dict(entry)


def _times(start_at: datetime, duration_minutes: int) -> dict[str, str]:
    # The day is the clinic's own calendar date: the wall clock the booking was made in.
    return {
        "date": start_at.date().isoformat(),
        "start_at": start_at.isoformat(),
        "end_at": (start_at + timedelta(minutes=duration_minutes)).isoformat(),
    }


def calendar_day(
    documents: DocumentStore, tenant_id: str, branch_id: str, day: str
) -> dict[str, Any]:
    """A branch's day: its appointments in start order and the count per status."""
    entries = documents.query(CALENDAR, tenant_id, {"branch_id": branch_id, "date": day})
    entries.sort(key=lambda entry: (entry["start_at"], entry["appointment_id"]))
    return {
        "tenant_id": tenant_id,
        "branch_id": branch_id,
        "date": day,
        "appointments": entries,
        "counts": dict(Counter(entry["status"] for entry in entries)),
    }
