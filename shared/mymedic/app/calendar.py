"""The clinic calendar read model: one document per branch and day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import DocumentUnitOfWork

DAYS = "calendar_days"
INDEX = "calendar_index"


def day_doc_id(branch_id: str, day: str) -> str:
    return f"{branch_id}:{day}"


class CalendarProjection:
    name = "calendar"
    categories = frozenset({"appointment"})
    collections = (DAYS, INDEX)

    def prefetch(self, uow: DocumentUnitOfWork, events: Sequence[EventEnvelope]) -> None:
        """SQLite documents are read by key on demand."""

    def apply(self, uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
        data = event.data()
        tenant = event.tenant_id
        branch = event.branch_id or "unknown"
        match data:
            case e.AppointmentBooked():
                entry = {
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
                self._place(uow, tenant, branch, entry)
            case e.AppointmentRescheduled():
                entry = self._remove(uow, tenant, data.appointment_id)
                entry.update(
                    clinician_id=data.clinician_id,
                    room_id=data.room_id,
                    **_times(data.start_at, data.duration_minutes),
                )
                self._place(uow, tenant, branch, entry)
            case e.AppointmentCancelled() | e.AppointmentCompleted() | e.AppointmentNoShow():
                status = {
                    e.AppointmentCancelled: "cancelled",
                    e.AppointmentCompleted: "completed",
                    e.AppointmentNoShow: "no_show",
                }[type(data)]
                entry = self._remove(uow, tenant, data.appointment_id)
                entry["status"] = status
                self._place(uow, tenant, branch, entry)

    def _place(
        self, uow: DocumentUnitOfWork, tenant: str, branch: str, entry: dict[str, Any]
    ) -> None:
        day = entry["date"]
        doc_id = day_doc_id(branch, day)
        doc = uow.get(DAYS, tenant, doc_id) or {
            "tenant_id": tenant,
            "branch_id": branch,
            "date": day,
            "appointments": {},
        }
        doc["appointments"][entry["appointment_id"]] = entry
        doc["counts"] = dict(Counter(a["status"] for a in doc["appointments"].values()))
        uow.put(DAYS, tenant, doc_id, doc)
        uow.put(INDEX, tenant, entry["appointment_id"], {"tenant_id": tenant, "day_doc": doc_id})

    def _remove(self, uow: DocumentUnitOfWork, tenant: str, appointment_id: str) -> dict[str, Any]:
        index = uow.get(INDEX, tenant, appointment_id)
        if index is None:
            raise LookupError(f"appointment {appointment_id} is not on the calendar")
        doc = uow.get(DAYS, tenant, index["day_doc"])
        if doc is None:
            raise LookupError(f"calendar day {index['day_doc']} is missing")
        entry: dict[str, Any] = doc["appointments"].pop(appointment_id)
        if doc["appointments"]:
            doc["counts"] = dict(Counter(a["status"] for a in doc["appointments"].values()))
            uow.put(DAYS, tenant, index["day_doc"], doc)
        else:
            uow.delete(DAYS, tenant, index["day_doc"])
        return entry


def _times(start_at: datetime, duration_minutes: int) -> dict[str, str]:
    # The day is the clinic's own calendar date: the wall clock the booking was made in.
    return {
        "date": start_at.date().isoformat(),
        "start_at": start_at.isoformat(),
        "end_at": (start_at + timedelta(minutes=duration_minutes)).isoformat(),
    }
