from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
META = Metadata(tenant_id="t1", actor="staff:1", source="test", correlation_id="corr-0001")


def _registered() -> EventEnvelope:
    return build_envelope(
        e.PatientRegistered(patient_id="p1", home_branch_id="b1", sex="male", channel="portal"),
        metadata=META,
        branch_id="b1",
        stream_version=1,
        occurred_at=NOW,
        recorded_at=NOW,
        personal=e.PatientPersonalData(full_name="Synthetic Person", postcode="411001"),
        subject_id="p1",
    )


def test_envelope_carries_the_full_metadata() -> None:
    env = _registered()
    assert env.event_type == "patient.registered"
    assert env.schema_version == 1
    assert (env.tenant_id, env.branch_id) == ("t1", "b1")
    assert (env.stream_id, env.stream_version) == ("patient:p1", 1)
    assert env.correlation_id == "corr-0001"
    assert env.actor == "staff:1"
    assert env.category == "patient"


def test_personal_data_is_kept_out_of_the_payload() -> None:
    env = _registered()
    assert env.subject_id == "p1"
    assert env.personal == {
        "full_name": "Synthetic Person",
        "phone": None,
        "email": None,
        "date_of_birth": None,
        "postcode": "411001",
    }
    flattened = str(env.payload)
    assert "Synthetic" not in flattened and "411001" not in flattened


def test_personal_data_model_must_match_the_event_type() -> None:
    with pytest.raises(TypeError):
        build_envelope(
            e.AppointmentNoShow(appointment_id="a1"),
            metadata=META,
            branch_id="b1",
            stream_version=2,
            occurred_at=NOW,
            recorded_at=NOW,
            personal=e.PatientPersonalData(full_name="Synthetic Person"),
        )


def test_json_round_trip_restores_the_typed_payload() -> None:
    env = _registered()
    again = EventEnvelope.from_json(env.to_json())
    assert again == env
    data = again.data()
    assert isinstance(data, e.PatientRegistered)
    assert data.patient_id == "p1"


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        e.AppointmentRescheduled(
            appointment_id="a1",
            previous_start_at=NOW,
            start_at=datetime(2026, 1, 6, 9, 0),
            duration_minutes=30,
            clinician_id="c1",
            room_id="r1",
        )


def test_every_catalogued_type_round_trips_by_name() -> None:
    assert set(e.CATALOGUE) >= {
        "patient.registered",
        "appointment.booked",
        "appointment.rescheduled",
        "appointment.cancelled",
        "appointment.completed",
        "appointment.no_show",
        "invoice.issued",
        "payment.captured",
        "refund.issued",
        "referral.received",
        "nps.response_recorded",
        "marketing.touch_recorded",
    }
    for name, model in e.CATALOGUE.items():
        assert e.payload_model(name) is model


def test_unknown_type_and_unknown_schema_version_are_errors() -> None:
    with pytest.raises(e.UnknownEventType):
        e.decode_payload("appointment.teleported", 1, {})
    with pytest.raises(ValueError, match="upcaster"):
        e.decode_payload("appointment.no_show", 9, {"appointment_id": "a1"})
