"""The audit trail of one appointment, read straight from the event log.

It answers what happened, in what order, who did it, what changed, what policy
applied and what was paid, refunded or forfeited. It reads the appointment's stream
and the clinicians' and rooms' day streams its booking and moves reserved, and
nothing else: no read model, and never an envelope's personal part.

Order: the appointment stream's versions are authoritative. Each schedule event
belongs to the command that wrote it with an appointment event (same correlation id,
actor, source and recording time) and is listed right after that command's
appointment events, streams in name order, as the store appended them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from mymedic.app.audit_text import describe
from mymedic.domain import events as e
from mymedic.domain.aggregates import AppointmentState, evolve
from mymedic.domain.envelope import EventEnvelope
from mymedic.domain.types import AppointmentStatus
from mymedic.ports import EventStore

Scalar = str | int | float | None
Snapshot = dict[str, str | int | datetime]


class AppointmentNotFound(LookupError):
    """No stream ``appointment:<id>`` in the tenant."""


@dataclass(frozen=True)
class Change:
    before: Scalar
    after: Scalar


@dataclass(frozen=True)
class Money:
    """Money moved by one event, in minor units of ``currency``."""

    movement: str  # deposit | payment | refund | forfeiture
    amount_minor: int
    currency: str
    payment_id: str | None = None
    refund_id: str | None = None
    mode: str | None = None
    provider: str | None = None
    provider_reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class PolicyApplied:
    trigger: str
    forfeit_within_hours: int
    forfeit_percent: int
    hours_before_start: float


@dataclass(frozen=True)
class SlotChange:
    action: str  # reserved | released
    resource_kind: str
    resource_id: str
    day: str
    start_at: str | None
    end_at: str | None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    stream_id: str
    stream_version: int
    event_id: str
    event_type: str
    occurred_at: str
    recorded_at: str
    actor: str
    source: str
    command: str | None
    correlation_id: str
    causation_id: str | None
    summary: str
    changes: dict[str, Change] = field(default_factory=dict)
    money: Money | None = None
    policy: PolicyApplied | None = None
    slot: SlotChange | None = None


@dataclass(frozen=True)
class AuditSummary:
    status: str
    patient_id: str
    clinician_id: str
    room_id: str
    modality: str
    procedure_code: str
    start_at: str
    duration_minutes: int
    price_minor: int
    currency: str
    paid_minor: int
    refunded_minor: int
    forfeited_minor: int
    # Paid less refunded: what the clinic holds, forfeited deposits included.
    net_held_minor: int
    # Paid less refunded less forfeited: what may still be refunded.
    refundable_minor: int
    # The price less net paid while the appointment stands; nothing once it was
    # cancelled or missed.
    balance_outstanding_minor: int
    booked_by: str
    booked_at: str
    booked_recorded_at: str
    booked_via: str
    channel: str


@dataclass(frozen=True)
class AppointmentAudit:
    tenant_id: str
    appointment_id: str
    branch_id: str | None
    patient_id: str
    stream_id: str
    version: int
    summary: AuditSummary
    entries: tuple[AuditEntry, ...]

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["entries"] = list(body["entries"])
        return body


def appointment_audit(store: EventStore, tenant_id: str, appointment_id: str) -> AppointmentAudit:
    stream = e.stream_id("appointment", appointment_id)
    history = store.read_stream(tenant_id, stream)
    if not history:
        raise AppointmentNotFound(f"appointment {appointment_id} does not exist")
    booked = history[0].data()
    if not isinstance(booked, e.AppointmentBooked):
        raise ValueError(f"{stream} starts with {history[0].event_type}")
    schedule = _schedule_events(store, tenant_id, appointment_id, history)
    entries: list[AuditEntry] = []
    state: AppointmentState | None = None
    reserved: dict[str, tuple[datetime, datetime]] = {}
    for seq, envelope in enumerate(_in_order(history, schedule), start=1):
        data = envelope.data()
        if envelope.stream_id == stream:
            after = evolve(state, data)
            if not isinstance(after, AppointmentState):  # pragma: no cover - evolve's contract
                raise TypeError(f"{stream} folded into {type(after).__name__}")
            entries.append(_appointment_entry(seq, envelope, state, after))
            state = after
        else:
            entries.append(_schedule_entry(seq, envelope, reserved))
    assert state is not None  # noqa: S101 (the stream is not empty)
    first = history[0]
    return AppointmentAudit(
        tenant_id=tenant_id,
        appointment_id=appointment_id,
        branch_id=first.branch_id,
        patient_id=state.patient_id,
        stream_id=stream,
        version=history[-1].stream_version,
        summary=_summary(state, first, booked),
        entries=tuple(entries),
    )


# --- which events, in which order ----------------------------------------------------------


def _schedule_events(
    store: EventStore, tenant_id: str, appointment_id: str, history: list[EventEnvelope]
) -> list[EventEnvelope]:
    """This appointment's reservations and releases on every resource day it was
    booked or moved to."""
    streams: set[str] = set()
    for envelope in history:
        data = envelope.data()
        if isinstance(data, e.AppointmentBooked | e.AppointmentRescheduled):
            day = data.start_at.date()
            for kind, resource in (("clinician", data.clinician_id), ("room", data.room_id)):
                streams.add(e.stream_id("schedule", e.schedule_entity(kind, resource, day)))
    found: list[EventEnvelope] = []
    for name in sorted(streams):
        for envelope in store.read_stream(tenant_id, name):
            data = envelope.data()
            if (
                isinstance(data, e.SlotReserved | e.SlotReleased)
                and data.appointment_id == appointment_id
            ):
                found.append(envelope)
    return found


def _command_key(envelope: EventEnvelope) -> tuple[str, str, str, datetime]:
    """What every event of one command shares."""
    return (envelope.correlation_id, envelope.actor, envelope.source, envelope.recorded_at)


def _in_order(history: list[EventEnvelope], schedule: list[EventEnvelope]) -> list[EventEnvelope]:
    last_of_command = {_command_key(event): index for index, event in enumerate(history)}

    def anchor(event: EventEnvelope) -> int:
        """The appointment event this one follows."""
        index = last_of_command.get(_command_key(event))
        if index is not None:
            return index
        # Not written with an appointment event (never, today): by recording time.
        earlier = [i for i, other in enumerate(history) if other.recorded_at <= event.recorded_at]
        return earlier[-1] if earlier else -1

    keyed: list[tuple[tuple[int, int, str, int], EventEnvelope]] = [
        ((index, 0, "", 0), event) for index, event in enumerate(history)
    ]
    keyed += [((anchor(ev), 1, ev.stream_id, ev.stream_version), ev) for ev in schedule]
    return [event for _, event in sorted(keyed, key=lambda pair: pair[0])]


# --- one entry -------------------------------------------------------------------------------


def _base(seq: int, envelope: EventEnvelope, summary: str) -> dict[str, Any]:
    """The envelope's who, when and why. Its personal part is never read."""
    return {
        "seq": seq,
        "stream_id": envelope.stream_id,
        "stream_version": envelope.stream_version,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "occurred_at": envelope.occurred_at.isoformat(),
        "recorded_at": envelope.recorded_at.isoformat(),
        "actor": envelope.actor,
        "source": envelope.source,
        "command": (
            envelope.source.removeprefix("command:")
            if envelope.source.startswith("command:")
            else None
        ),
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "summary": summary,
    }


def _appointment_entry(
    seq: int, envelope: EventEnvelope, before: AppointmentState | None, after: AppointmentState
) -> AuditEntry:
    data = envelope.data()
    return AuditEntry(
        **_base(seq, envelope, describe(data)),
        changes=diff(_snapshot(before), _snapshot(after)),
        money=_money(data),
        policy=_policy(data),
    )


def _schedule_entry(
    seq: int, envelope: EventEnvelope, reserved: dict[str, tuple[datetime, datetime]]
) -> AuditEntry:
    """``reserved`` holds the interval this appointment holds per schedule stream, so
    that a release names the interval it gave back."""
    data = envelope.data()
    interval: tuple[datetime, datetime] | None
    if isinstance(data, e.SlotReserved):
        interval = reserved[envelope.stream_id] = (data.start_at, data.end_at)
        action = "reserved"
    elif isinstance(data, e.SlotReleased):
        interval = reserved.pop(envelope.stream_id, None)
        action = "released"
    else:  # pragma: no cover - _schedule_events keeps only these two
        raise TypeError(f"{data.event_type} is not a reservation")
    slot = SlotChange(
        action=action,
        resource_kind=data.resource_kind,
        resource_id=data.resource_id,
        day=data.day.isoformat(),
        start_at=interval[0].isoformat() if interval else None,
        end_at=interval[1].isoformat() if interval else None,
    )
    text = f"{action.capitalize()} {data.resource_kind} {data.resource_id} on {slot.day}"
    if interval:
        text += f" {interval[0]:%H:%M}-{interval[1]:%H:%M}"
    return AuditEntry(**_base(seq, envelope, text), slot=slot)


def _snapshot(state: AppointmentState | None) -> Snapshot:
    if state is None:
        return {}
    return {
        "status": state.status.value,
        "start_at": state.start_at,
        "duration_minutes": state.duration_minutes,
        "clinician_id": state.clinician_id,
        "room_id": state.room_id,
        "paid_minor": state.paid_minor,
        "refunded_minor": state.refunded_minor,
        "forfeited_minor": state.forfeited_minor,
    }


def diff(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, Change]:
    """The fields whose value differs (a time compares as an instant), in ``after``'s
    field order."""
    return {
        name: Change(_plain(before.get(name)), _plain(value))
        for name, value in after.items()
        if name not in before or before[name] != value
    }


def _plain(value: object) -> Scalar:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)


def _money(data: e.EventPayload) -> Money | None:
    match data:
        case e.AppointmentPaymentTaken():
            return Money(
                movement=data.kind.value,
                amount_minor=data.amount_minor,
                currency=data.currency,
                payment_id=data.payment_id,
                mode=data.mode.value,
                provider=data.provider,
                provider_reference=data.provider_reference,
            )
        case e.AppointmentPaymentRefunded():
            return Money(
                movement="refund",
                amount_minor=data.amount_minor,
                currency=data.currency,
                payment_id=data.payment_id,
                refund_id=data.refund_id,
                reason=data.reason,
            )
        case e.DepositForfeited():
            return Money(
                movement="forfeiture", amount_minor=data.amount_minor, currency=data.currency
            )
    return None


def _policy(data: e.EventPayload) -> PolicyApplied | None:
    if not isinstance(data, e.DepositForfeited):
        return None
    return PolicyApplied(
        trigger=data.trigger,
        forfeit_within_hours=data.policy_within_hours,
        forfeit_percent=data.policy_percent,
        hours_before_start=data.hours_before_start,
    )


def _summary(
    state: AppointmentState, booking: EventEnvelope, booked: e.AppointmentBooked
) -> AuditSummary:
    standing = state.status not in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
    outstanding = max(0, state.price_minor - state.net_paid_minor) if standing else 0
    return AuditSummary(
        status=state.status.value,
        patient_id=state.patient_id,
        clinician_id=state.clinician_id,
        room_id=state.room_id,
        modality=state.modality,
        procedure_code=state.procedure_code,
        start_at=state.start_at.isoformat(),
        duration_minutes=state.duration_minutes,
        price_minor=state.price_minor,
        currency=state.currency,
        paid_minor=state.paid_minor,
        refunded_minor=state.refunded_minor,
        forfeited_minor=state.forfeited_minor,
        net_held_minor=state.net_paid_minor,
        refundable_minor=max(0, state.refundable_minor),
        balance_outstanding_minor=outstanding,
        booked_by=booking.actor,
        booked_at=booking.occurred_at.isoformat(),
        booked_recorded_at=booking.recorded_at.isoformat(),
        booked_via=booking.source,
        channel=booked.channel.value,
    )
