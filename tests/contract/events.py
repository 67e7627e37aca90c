"""Envelopes for contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def appointment_events(
    appointment_id: str = "a1", tenant_id: str = "t1", branch_id: str = "b1", start_version: int = 1
) -> list[EventEnvelope]:
    """Booked, rescheduled, completed: a three-event appointment stream."""
    meta = Metadata(tenant_id=tenant_id, actor="test", source="contract")
    start = datetime(2026, 2, 10, 10, 0, tzinfo=UTC)
    payloads: list[e.EventPayload] = [
        e.AppointmentBooked(
            appointment_id=appointment_id,
            patient_id="p1",
            clinician_id="c1",
            room_id="r1",
            modality="MRI",
            procedure_code="MRI-KNEE",
            start_at=start,
            duration_minutes=45,
            channel="portal",
            price_minor=700000,
            currency="INR",
        ),
        e.AppointmentRescheduled(
            appointment_id=appointment_id,
            previous_start_at=start,
            start_at=start + timedelta(days=1),
            duration_minutes=45,
            clinician_id="c2",
            room_id="r1",
        ),
        e.AppointmentCompleted(appointment_id=appointment_id),
    ]
    return [
        build_envelope(
            payload,
            metadata=meta,
            branch_id=branch_id,
            stream_version=start_version + i,
            occurred_at=T0 + timedelta(minutes=i),
            recorded_at=T0 + timedelta(minutes=i),
        )
        for i, payload in enumerate(payloads)
    ]
