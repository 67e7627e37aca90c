"""Aggregates as pure functions: fold past events into state, decide new events.

``decide(command, state)`` enforces the business rules of one aggregate; it sees only
that aggregate's own history, so each command is one transaction on one stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from mymedic.domain import commands as c
from mymedic.domain import events as e
from mymedic.domain.errors import DomainError, StreamAlreadyExists, StreamNotFound
from mymedic.domain.types import AppointmentStatus


@dataclass(frozen=True)
class NewEvent:
    payload: e.EventPayload
    personal: BaseModel | None = None
    subject_id: str | None = None


@dataclass(frozen=True)
class AppointmentState:
    status: AppointmentStatus
    patient_id: str
    clinician_id: str
    room_id: str
    start_at: datetime
    duration_minutes: int


@dataclass(frozen=True)
class InvoiceState:
    currency: str
    amount_minor: int
    payments: dict[str, int] = field(default_factory=dict)
    refunds: dict[str, int] = field(default_factory=dict)  # refunded per payment id

    @property
    def paid_minor(self) -> int:
        return sum(self.payments.values()) - sum(self.refunds.values())


@dataclass(frozen=True)
class ScheduleState:
    """The intervals reserved on one resource's day, by appointment."""

    reservations: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class Created:
    """State of create-only aggregates (patient, referral, NPS, marketing touch)."""


State = AppointmentState | InvoiceState | ScheduleState | Created


def evolve(state: State | None, event: e.EventPayload) -> State:
    match event:
        case e.AppointmentBooked():
            return AppointmentState(
                status=AppointmentStatus.BOOKED,
                patient_id=event.patient_id,
                clinician_id=event.clinician_id,
                room_id=event.room_id,
                start_at=event.start_at,
                duration_minutes=event.duration_minutes,
            )
        case e.AppointmentRescheduled() if isinstance(state, AppointmentState):
            return replace(
                state,
                start_at=event.start_at,
                duration_minutes=event.duration_minutes,
                clinician_id=event.clinician_id,
                room_id=event.room_id,
            )
        case e.AppointmentCancelled() if isinstance(state, AppointmentState):
            return replace(state, status=AppointmentStatus.CANCELLED)
        case e.AppointmentCompleted() if isinstance(state, AppointmentState):
            return replace(state, status=AppointmentStatus.COMPLETED)
        case e.AppointmentNoShow() if isinstance(state, AppointmentState):
            return replace(state, status=AppointmentStatus.NO_SHOW)
        case e.InvoiceIssued():
            return InvoiceState(currency=event.currency, amount_minor=event.amount_minor)
        case e.PaymentCaptured() if isinstance(state, InvoiceState):
            return replace(state, payments={**state.payments, event.payment_id: event.amount_minor})
        case e.RefundIssued() if isinstance(state, InvoiceState):
            refunded = state.refunds.get(event.payment_id, 0) + event.amount_minor
            return replace(state, refunds={**state.refunds, event.payment_id: refunded})
        case e.SlotReserved():
            held = state.reservations if isinstance(state, ScheduleState) else {}
            return ScheduleState({**held, event.appointment_id: (event.start_at, event.end_at)})
        case e.SlotReleased() if isinstance(state, ScheduleState):
            rest = {k: v for k, v in state.reservations.items() if k != event.appointment_id}
            return ScheduleState(rest)
        case (
            e.PatientRegistered()
            | e.ReferralReceived()
            | e.NpsResponseRecorded()
            | e.MarketingTouchRecorded()
        ):
            return Created()
    raise ValueError(f"{event.event_type} cannot follow state {type(state).__name__}")


def fold(events: Iterable[e.EventPayload]) -> State | None:
    state: State | None = None
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: c.Command, state: State | None) -> list[NewEvent]:
    if command.creates:
        if state is not None:
            raise StreamAlreadyExists(
                f"{command.category} {command.entity_id()} already exists",
                field=f"{command.category}_id",
            )
        return _decide_creation(command)
    if state is None:
        raise StreamNotFound(
            f"{command.category} {command.entity_id()} does not exist",
            field=f"{command.category}_id",
        )
    if isinstance(state, AppointmentState):
        return [NewEvent(_decide_appointment_change(command, state))]
    if isinstance(state, InvoiceState):
        return [NewEvent(_decide_invoice_change(command, state))]
    raise DomainError(f"{command.name} does not apply to a {command.category}")


def _decide_creation(command: c.Command) -> list[NewEvent]:
    match command:
        case c.RegisterPatient():
            payload = e.PatientRegistered(
                patient_id=command.patient_id,
                home_branch_id=command.branch_id,
                sex=command.sex,
                channel=command.channel,
            )
            return [NewEvent(payload, command.personal, command.patient_id)]
        case c.BookAppointment():
            return [NewEvent(e.AppointmentBooked(**_event_fields(command)))]
        case c.IssueInvoice():
            return [NewEvent(e.InvoiceIssued(**_event_fields(command)))]
        case c.RecordReferral():
            return [NewEvent(e.ReferralReceived(**_event_fields(command)))]
        case c.RecordNpsResponse():
            nps = e.NpsResponseRecorded(
                response_id=command.response_id,
                patient_id=command.patient_id,
                appointment_id=command.appointment_id,
                score=command.score,
            )
            if command.comment:
                comment = e.FreeTextPersonalData(comment=command.comment)
                return [NewEvent(nps, comment, command.patient_id)]
            return [NewEvent(nps)]
        case c.RecordMarketingTouch():
            return [NewEvent(e.MarketingTouchRecorded(**_event_fields(command)))]
    raise DomainError(f"{command.name} cannot create a {command.category}")


def _decide_appointment_change(command: c.Command, state: AppointmentState) -> e.EventPayload:
    if state.status is not AppointmentStatus.BOOKED:
        raise DomainError(
            f"appointment is {state.status.value}; {command.name} needs a booked appointment",
            field="appointment_id",
        )
    match command:
        case c.RescheduleAppointment():
            if command.start_at == state.start_at and command.clinician_id in (
                None,
                state.clinician_id,
            ):
                raise DomainError("the new start equals the current one", field="start_at")
            return e.AppointmentRescheduled(
                appointment_id=command.appointment_id,
                previous_start_at=state.start_at,
                start_at=command.start_at,
                duration_minutes=command.duration_minutes or state.duration_minutes,
                clinician_id=command.clinician_id or state.clinician_id,
                room_id=command.room_id or state.room_id,
                reason=command.reason,
            )
        case c.CancelAppointment():
            return e.AppointmentCancelled(
                appointment_id=command.appointment_id, reason=command.reason
            )
        case c.CompleteAppointment():
            return e.AppointmentCompleted(appointment_id=command.appointment_id)
        case c.MarkNoShow():
            return e.AppointmentNoShow(appointment_id=command.appointment_id)
    raise DomainError(f"{command.name} does not apply to an appointment")


def _decide_invoice_change(command: c.Command, state: InvoiceState) -> e.EventPayload:
    match command:
        case c.CapturePayment():
            _require_currency(command.currency, state.currency)
            if command.payment_id in state.payments:
                raise DomainError(
                    f"payment {command.payment_id} is already recorded", field="payment_id"
                )
            outstanding = state.amount_minor - state.paid_minor
            if command.amount_minor > outstanding:
                raise DomainError(
                    f"payment of {command.amount_minor} exceeds the outstanding "
                    f"{outstanding} {state.currency}",
                    field="amount_minor",
                )
            return e.PaymentCaptured(**_event_fields(command))
        case c.RefundPayment():
            _require_currency(command.currency, state.currency)
            paid = state.payments.get(command.payment_id)
            if paid is None:
                raise DomainError(
                    f"payment {command.payment_id} is not on this invoice", field="payment_id"
                )
            refundable = paid - state.refunds.get(command.payment_id, 0)
            if command.amount_minor > refundable:
                raise DomainError(
                    f"refund of {command.amount_minor} exceeds the refundable "
                    f"{refundable} {state.currency}",
                    field="amount_minor",
                )
            return e.RefundIssued(**_event_fields(command))
    raise DomainError(f"{command.name} does not apply to an invoice")


def _event_fields(command: c.Command) -> dict[str, Any]:
    """The command's own fields, which the event it creates repeats by name."""
    return command.model_dump(exclude=_ENVELOPE_FIELDS)


_ENVELOPE_FIELDS = {"tenant_id", "branch_id", "expected_version", "occurred_at"}


def _require_currency(given: str, expected: str) -> None:
    if given != expected:
        raise DomainError(f"the invoice is in {expected}, not {given}", field="currency")


class SlotTaken(DomainError):
    """The clinician or the room is already booked for part of the interval (HTTP 409)."""


@dataclass(frozen=True)
class Slot:
    kind: str  # "clinician" | "room"
    resource_id: str
    start_at: datetime
    end_at: datetime

    @property
    def day(self) -> date:
        return self.start_at.date()

    @property
    def stream(self) -> str:
        return e.stream_id("schedule", e.schedule_entity(self.kind, self.resource_id, self.day))


def held_slots(state: State | None) -> list[Slot]:
    """The clinician's and the room's intervals an appointment holds: from booking
    until it is cancelled (a completed or missed appointment keeps its interval: the
    time was spent)."""
    if not isinstance(state, AppointmentState) or state.status is AppointmentStatus.CANCELLED:
        return []
    end = state.start_at + timedelta(minutes=state.duration_minutes)
    if end.date() != state.start_at.date():
        raise DomainError("an appointment must end on the day it starts", field="start_at")
    return [
        Slot("clinician", state.clinician_id, state.start_at, end),
        Slot("room", state.room_id, state.start_at, end),
    ]


def slot_changes(
    appointment_id: str,
    before: State | None,
    after: State | None,
    schedules: dict[str, ScheduleState | None],
) -> dict[str, list[e.EventPayload]]:
    """What an appointment's change does to its resources' days: release what it held,
    reserve what it now holds, refusing any overlap with another appointment.
    ``schedules`` holds the current state of every stream named by the slots."""
    old, new = held_slots(before), held_slots(after)
    if old == new:
        return {}
    changes: dict[str, list[e.EventPayload]] = {}
    for slot in old:
        changes.setdefault(slot.stream, []).append(
            e.SlotReleased(
                resource_kind=slot.kind,
                resource_id=slot.resource_id,
                day=slot.day,
                appointment_id=appointment_id,
            )
        )
    for slot in new:
        state = schedules.get(slot.stream)
        for other, (start, end) in (state.reservations if state else {}).items():
            if other != appointment_id and start < slot.end_at and slot.start_at < end:
                raise SlotTaken(
                    f"{slot.kind} {slot.resource_id} is booked from {start.isoformat()} "
                    f"to {end.isoformat()} (appointment {other})",
                    field=f"{slot.kind}_id",
                )
        changes.setdefault(slot.stream, []).append(
            e.SlotReserved(
                resource_kind=slot.kind,
                resource_id=slot.resource_id,
                day=slot.day,
                appointment_id=appointment_id,
                start_at=slot.start_at,
                end_at=slot.end_at,
            )
        )
    return changes


def require_future_start(command: c.Command, booked_at: datetime) -> None:
    """A booking or a move must start after the moment it is made (``booked_at``: when
    the command says it happened, or when it arrived)."""
    if isinstance(command, c.BookAppointment | c.RescheduleAppointment) and (
        command.start_at <= booked_at
    ):
        raise DomainError(
            f"the start {command.start_at.isoformat()} is not after the booking time "
            f"{booked_at.isoformat()}",
            field="start_at",
        )
