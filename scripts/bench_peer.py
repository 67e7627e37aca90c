"""The benchmark's peer: the same appointment workload on the `eventsourcing` library.

An ``Appointment`` aggregate with ``@event`` methods and an ``Application`` on the
library's SQLite persistence (the write path), and the calendar read model built the way
the library's ``eventsourcing.projection`` module intends a materialised view to be built:
a ``Projection`` subclass whose ``@singledispatchmethod process_event`` calls command
methods on a view class that subclasses ``SQLiteTrackingRecorder``, each command writing
the calendar documents and the tracking record in one SQLite transaction of the view's
own database. The view holds the same ``calendar`` documents (one per appointment) as
our ``CalendarProjection``, in its own tables; nothing here uses MyMedic code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.application import Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.projection import Projection
from eventsourcing.sqlite import (
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteTrackingRecorder,
)
from eventsourcing.utils import Environment, get_topic

CALENDAR = "calendar"
# ListenNotifySubscription._select_limit: the page size of the library's own
# subscriptions (POPO, PostgreSQL), which its ProjectionRunner iterates.
SUBSCRIPTION_PAGE = 500


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
def raw_connection(datastore: SQLiteDatastore, *, writer: bool) -> Iterator[sqlite3.Connection]:
    """The sqlite3 connection under one of the library's pooled connections."""
    with datastore.get_connection(commit=writer) as conn:
        yield conn._sqlite_conn


def app_datastore(app: ClinicApp) -> SQLiteDatastore:
    factory = app.factory
    if not isinstance(factory, SQLiteFactory):
        raise TypeError(f"the peer runs on {type(factory).__name__}, not SQLite")
    return factory.datastore


# --- replay: the library's projection idiom into a materialised calendar view -----------


Doc = dict[str, Any]


class _Rows:
    """The documents one view command touches, read by key inside its transaction and
    each written once before the tracking record (no caching across commands)."""

    def __init__(self, cursor: SQLiteCursor) -> None:
        self._c = cursor
        self._docs: dict[tuple[str, str, str], Doc | None] = {}
        self._dirty: set[tuple[str, str, str]] = set()

    def get(self, table: str, tenant: str, doc_id: str) -> Doc | None:
        key = (table, tenant, doc_id)
        if key not in self._docs:
            self._c.execute(
                f"SELECT body FROM {table} WHERE tenant_id = ? AND doc_id = ?", (tenant, doc_id)
            )
            row = self._c.fetchone()
            self._docs[key] = orjson.loads(row["body"]) if row else None
        return self._docs[key]

    def put(self, table: str, tenant: str, doc_id: str, doc: Doc | None) -> None:
        key = (table, tenant, doc_id)
        self._docs[key] = doc
        self._dirty.add(key)

    def write(self) -> None:
        for key in sorted(self._dirty):
            table, tenant, doc_id = key
            doc = self._docs[key]
            if doc is None:
                self._c.execute(
                    f"DELETE FROM {table} WHERE tenant_id = ? AND doc_id = ?", (tenant, doc_id)
                )
            else:
                self._c.execute(
                    f"INSERT INTO {table} VALUES (?, ?, ?)"
                    " ON CONFLICT DO UPDATE SET body = excluded.body",
                    (tenant, doc_id, orjson.dumps(doc)),
                )


def _take(rows: _Rows, tenant: str, appointment_id: str) -> Doc:
    entry = rows.get(CALENDAR, tenant, appointment_id)
    if entry is None:
        raise LookupError(f"appointment {appointment_id} is not on the calendar")
    return dict(entry)


class CalendarView(SQLiteTrackingRecorder):
    """The materialised view: one document per branch and day plus an index document per
    appointment, in the view's own tables beside the library's ``tracking`` table. Each
    command is one ``datastore.transaction(commit=True)`` (BEGIN ... COMMIT) that reads
    what it needs, writes the changed documents and inserts the tracking record, so a
    document change is recorded atomically and uniquely with its position."""

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.extend(
            f"CREATE TABLE IF NOT EXISTS {table} (tenant_id TEXT NOT NULL,"
            " doc_id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (tenant_id, doc_id))"
            for table in (CALENDAR,)
        )
        return statements

    def _command(self, tracking: Tracking, change: Callable[[_Rows], None]) -> None:
        with self.datastore.transaction(commit=True) as c:
            rows = _Rows(c)
            change(rows)
            rows.write()
            self._insert_tracking(c, tracking)

    def book(self, tenant: str, entry: Doc, tracking: Tracking) -> None:
        self._command(
            tracking, lambda rows: rows.put(CALENDAR, tenant, entry["appointment_id"], entry)
        )

    def update(self, tenant: str, appointment_id: str, changes: Doc, tracking: Tracking) -> None:
        def change(rows: _Rows) -> None:
            entry = _take(rows, tenant, appointment_id)
            entry.update(changes)
            rows.put(CALENDAR, tenant, appointment_id, entry)

        self._command(tracking, change)

    def documents(self, table: str, tenant: str) -> list[Doc]:
        if table != CALENDAR:
            raise ValueError(f"no table {table!r} in the calendar view")
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT body FROM {table} WHERE tenant_id = ? ORDER BY doc_id", (tenant,))
            return [orjson.loads(row["body"]) for row in c.fetchall()]

    def close(self) -> None:
        self.datastore.close()


def _times(start_at: datetime, duration_minutes: int) -> dict[str, str]:
    return {
        "date": start_at.date().isoformat(),
        "start_at": start_at.isoformat(),
        "end_at": (start_at + timedelta(minutes=duration_minutes)).isoformat(),
    }


class CalendarProjection(Projection[CalendarView]):
    name = "calendar"
    topics = (
        get_topic(Appointment.Booked),
        get_topic(Appointment.Rescheduled),
        get_topic(Appointment.Completed),
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def booked(self, ev: Appointment.Booked, tracking: Tracking) -> None:
        entry = {
            "tenant_id": ev.tenant_id,
            "branch_id": ev.branch_id,
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
        self.view.book(ev.tenant_id, entry, tracking)

    @process_event.register
    def rescheduled(self, ev: Appointment.Rescheduled, tracking: Tracking) -> None:
        changes = {
            "clinician_id": ev.clinician_id,
            "room_id": ev.room_id,
            **_times(ev.start_at, ev.duration_minutes),
        }
        self.view.update(ev.tenant_id, ev.appointment_id, changes, tracking)

    @process_event.register
    def completed(self, ev: Appointment.Completed, tracking: Tracking) -> None:
        changes = {"status": "completed"}
        self.view.update(ev.tenant_id, ev.appointment_id, changes, tracking)


def open_view(db_path: Path) -> CalendarView:
    """As ``ProjectionRunner`` builds a view: an infrastructure factory from an
    environment named after the projection, then ``tracking_recorder(view_class)``."""
    env = Environment(
        CalendarProjection.name,
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(db_path),
            "CREATE_TABLE": "y",
        },
    )
    factory = InfrastructureFactory[CalendarView].construct(env=env)
    return factory.tracking_recorder(CalendarView)


def run_projection(app: ClinicApp, projection: CalendarProjection) -> int:
    """Catch the view up with the application, as ``ProjectionRunner`` does through an
    ``ApplicationSubscription``: from the view's ``max_tracking_id``, notifications in
    pages of ``SUBSCRIPTION_PAGE`` filtered by the projection's topics in the database,
    each mapped to its domain event and passed with ``Tracking(app.name, id)`` to
    ``process_event``. The runner itself cannot be used here: it needs
    ``recorder.subscribe()``, which ``SQLiteApplicationRecorder`` does not implement
    (raises NotImplementedError), so this loop does in one thread what the subscription's
    pull thread and the runner's processing thread do, and returns when caught up."""
    name = app.name
    mapper = app.mapper
    recorder = app.recorder
    position = projection.view.max_tracking_id(name) or 0
    count = 0
    while page := recorder.select_notifications(
        start=position,
        limit=SUBSCRIPTION_PAGE,
        topics=projection.topics,
        inclusive_of_start=False,
    ):
        for notification in page:
            projection.process_event(
                mapper.to_domain_event(notification), Tracking(name, notification.id)
            )
        position = page[-1].id
        count += len(page)
    return count
