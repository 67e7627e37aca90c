"""The benchmark's peer: the same appointment workload on the `eventsourcing` library.

An ``Appointment`` aggregate with ``@event`` methods, an ``Application`` on the
library's SQLite persistence, and a calendar projection that reads the application's
notification log and writes the same ``calendar_days``/``calendar_index`` documents as
our ``CalendarProjection`` into a ``SqliteDocumentStore`` (with per-stream checkpoints).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteFactory

from mymedic.adapters.local.documents import SqliteDocumentStore, SqliteUnitOfWork

DAYS = "calendar_days"
INDEX = "calendar_index"
PROJECTION = "calendar"


class PeerDomainError(Exception):
    pass


def appointment_uuid(tenant_id: str, appointment_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mymedic:{tenant_id}:appointment:{appointment_id}")


class Appointment(Aggregate):
    """Holds the same fields as our AppointmentBooked/Rescheduled/Completed payloads;
    every event carries tenant and branch, as our envelope does."""

    @staticmethod
    def create_id(tenant_id: str, appointment_id: str) -> UUID:
        return appointment_uuid(tenant_id, appointment_id)

    class Booked(Aggregate.Created):
        tenant_id: str
        branch_id: str
        appointment_id: str
        patient_id: str
        clinician_id: str
        room_id: str
        modality: str
        procedure_code: str
        start_at: datetime
        duration_minutes: int
        channel: str
        price_minor: int
        currency: str
        referral_id: str | None
        gclid: str | None

    @event(Booked)
    def __init__(
        self,
        *,
        tenant_id: str,
        branch_id: str,
        appointment_id: str,
        patient_id: str,
        clinician_id: str,
        room_id: str,
        modality: str,
        procedure_code: str,
        start_at: datetime,
        duration_minutes: int,
        channel: str,
        price_minor: int,
        currency: str,
        referral_id: str | None,
        gclid: str | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.branch_id = branch_id
        self.appointment_id = appointment_id
        self.patient_id = patient_id
        self.clinician_id = clinician_id
        self.room_id = room_id
        self.modality = modality
        self.procedure_code = procedure_code
        self.start_at = start_at
        self.duration_minutes = duration_minutes
        self.channel = channel
        self.price_minor = price_minor
        self.currency = currency
        self.referral_id = referral_id
        self.gclid = gclid
        self.status = "booked"

    class Rescheduled(Aggregate.Event):
        tenant_id: str
        branch_id: str
        appointment_id: str
        previous_start_at: datetime
        start_at: datetime
        duration_minutes: int
        clinician_id: str
        room_id: str
        reason: str | None

    class Completed(Aggregate.Event):
        tenant_id: str
        branch_id: str
        appointment_id: str

    def reschedule(
        self,
        *,
        start_at: datetime,
        duration_minutes: int | None = None,
        clinician_id: str | None = None,
        room_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        """The same rules as our ``decide``: booked only, and the start must change."""
        self._require_booked("reschedule")
        if start_at == self.start_at and clinician_id in (None, self.clinician_id):
            raise PeerDomainError("the new start equals the current one")
        self._rescheduled(
            tenant_id=self.tenant_id,
            branch_id=self.branch_id,
            appointment_id=self.appointment_id,
            previous_start_at=self.start_at,
            start_at=start_at,
            duration_minutes=duration_minutes or self.duration_minutes,
            clinician_id=clinician_id or self.clinician_id,
            room_id=room_id or self.room_id,
            reason=reason,
        )

    @event(Rescheduled)
    def _rescheduled(
        self,
        *,
        tenant_id: str,
        branch_id: str,
        appointment_id: str,
        previous_start_at: datetime,
        start_at: datetime,
        duration_minutes: int,
        clinician_id: str,
        room_id: str,
        reason: str | None,
    ) -> None:
        self.start_at = start_at
        self.duration_minutes = duration_minutes
        self.clinician_id = clinician_id
        self.room_id = room_id

    def complete(self) -> None:
        self._require_booked("complete")
        self._completed(
            tenant_id=self.tenant_id,
            branch_id=self.branch_id,
            appointment_id=self.appointment_id,
        )

    @event(Completed)
    def _completed(self, *, tenant_id: str, branch_id: str, appointment_id: str) -> None:
        self.status = "completed"

    def _require_booked(self, action: str) -> None:
        if self.status != "booked":
            raise PeerDomainError(f"appointment is {self.status}; {action} needs a booked one")


class ClinicApp(Application[UUID]):
    """Default repository (no aggregate cache, no snapshots), as our write path has none."""

    name = "PeerClinic"


def open_app(db_path: Path) -> ClinicApp:
    return ClinicApp(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(db_path),
            # The library's defaults, spelled out: ids are UUIDs, tables are created.
            "ORIGINATOR_ID_TYPE": "uuid",
            "CREATE_TABLE": "y",
        }
    )


# --- the write path ------------------------------------------------------------------


def book(app: ClinicApp, d: dict[str, Any]) -> None:
    # eventsourcing 9.5 treats keyword-only parameters of an @event method as required
    # even when they have defaults, so the optional fields are always passed.
    fields = {"referral_id": None, "gclid": None, **d}
    fields["start_at"] = datetime.fromisoformat(d["start_at"])
    app.save(Appointment(**fields))


def _load(app: ClinicApp, d: dict[str, Any]) -> Appointment:
    agg: Appointment = app.repository.get(appointment_uuid(d["tenant_id"], d["appointment_id"]))
    if agg.tenant_id != d["tenant_id"] or agg.branch_id != d["branch_id"]:
        raise PeerDomainError("the command names another tenant or branch")
    return agg


def reschedule(app: ClinicApp, d: dict[str, Any]) -> None:
    agg = _load(app, d)
    agg.reschedule(
        start_at=datetime.fromisoformat(d["start_at"]),
        duration_minutes=d.get("duration_minutes"),
        clinician_id=d.get("clinician_id"),
        room_id=d.get("room_id"),
        reason=d.get("reason"),
    )
    app.save(agg)


def complete(app: ClinicApp, d: dict[str, Any]) -> None:
    agg = _load(app, d)
    agg.complete()
    app.save(agg)


HANDLERS: dict[str, Callable[[ClinicApp, dict[str, Any]], None]] = {
    "book_appointment": book,
    "reschedule_appointment": reschedule,
    "complete_appointment": complete,
}


@contextmanager
def raw_connection(app: ClinicApp, *, writer: bool) -> Iterator[sqlite3.Connection]:
    """The sqlite3 connection under one of the library's pooled connections."""
    factory = app.factory
    if not isinstance(factory, SQLiteFactory):
        raise TypeError(f"the peer runs on {type(factory).__name__}, not SQLite")
    with factory.datastore.get_connection(commit=writer) as conn:
        yield conn._sqlite_conn


# --- replay: the notification log into the calendar read model -------------------------


def _times(start_at: datetime, duration_minutes: int) -> dict[str, str]:
    return {
        "date": start_at.date().isoformat(),
        "start_at": start_at.isoformat(),
        "end_at": (start_at + timedelta(minutes=duration_minutes)).isoformat(),
    }


def _place(uow: SqliteUnitOfWork, tenant: str, branch: str, entry: dict[str, Any]) -> None:
    day = entry["date"]
    doc_id = f"{branch}:{day}"
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


def _remove(uow: SqliteUnitOfWork, tenant: str, appointment_id: str) -> dict[str, Any]:
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


def apply(uow: SqliteUnitOfWork, ev: object) -> None:
    if isinstance(ev, Appointment.Booked):
        entry = {
            "appointment_id": ev.appointment_id,
            "patient_id": ev.patient_id,
            "clinician_id": ev.clinician_id,
            "room_id": ev.room_id,
            "modality": ev.modality,
            "procedure_code": ev.procedure_code,
            "channel": ev.channel,
            "status": "booked",
            **_times(ev.start_at, ev.duration_minutes),
        }
        _place(uow, ev.tenant_id, ev.branch_id, entry)
    elif isinstance(ev, Appointment.Rescheduled):
        entry = _remove(uow, ev.tenant_id, ev.appointment_id)
        entry.update(
            clinician_id=ev.clinician_id,
            room_id=ev.room_id,
            **_times(ev.start_at, ev.duration_minutes),
        )
        _place(uow, ev.tenant_id, ev.branch_id, entry)
    elif isinstance(ev, Appointment.Completed):
        entry = _remove(uow, ev.tenant_id, ev.appointment_id)
        entry["status"] = "completed"
        _place(uow, ev.tenant_id, ev.branch_id, entry)


def replay_calendar(app: ClinicApp, documents: SqliteDocumentStore, page_size: int = 2000) -> int:
    """Read the notification log in pages, decode each notification, and apply it to the
    calendar documents in one transaction per page, with a checkpoint per stream."""
    position = 0
    count = 0
    while page := app.recorder.select_notifications(
        start=position, limit=page_size, inclusive_of_start=False
    ):
        with documents.unit_of_work() as uow:
            for notification in page:
                ev = app.mapper.to_domain_event(notification)
                tenant: str = ev.tenant_id  # type: ignore[attr-defined]
                stream = f"appointment:{ev.appointment_id}"  # type: ignore[attr-defined]
                last = uow.checkpoint(PROJECTION, tenant, stream)
                version = ev.originator_version
                if version <= last:
                    continue
                if version > last + 1:
                    raise LookupError(f"{stream} jumps from {last} to {version}")
                apply(uow, ev)
                uow.set_checkpoint(PROJECTION, tenant, stream, version)
        position = page[-1].id
        count += len(page)
    return count
