"""Mapped Zoho record versions become canonical events. All records are synthetic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mymedic.domain import events as e
from mymedic.domain.aggregates import AppointmentState, Created, NewEvent, State, evolve, fold
from mymedic.domain.envelope import EventEnvelope
from mymedic.domain.types import AppointmentStatus, Channel
from mymedic.integrations.zoho.mapping import (
    EXAMPLE_MAPPING,
    TenantMapping,
    load_mapping,
    map_record,
)
from mymedic.integrations.zoho.records import MappedRecord, ZohoRecord
from mymedic.integrations.zoho.translate import own_stream
from mymedic.integrations.zoho.translate import translate as translate_in

MAPPING: TenantMapping = load_mapping(EXAMPLE_MAPPING)
MODIFIED = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
CREATED = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
START = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata
LATER = datetime(2026, 3, 10, 5, 30, tzinfo=UTC)
APPOINTMENT = "zoho-5725767000000901001"
PATIENT = "5725767000000412001"
BOOKED = AppointmentStatus.BOOKED
ARRIVED = AppointmentStatus.ARRIVED
COMPLETED = AppointmentStatus.COMPLETED
CANCELLED = AppointmentStatus.CANCELLED
NO_SHOW = AppointmentStatus.NO_SHOW
ZOHO_STATUS = {
    BOOKED: "Scheduled",
    ARRIVED: "Checked In",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
    NO_SHOW: "No Show",
}


@dataclass
class Streams:
    """The translators' context over folded states, with no store behind it."""

    states: dict[str, State] = field(default_factory=dict)
    mapping: TenantMapping = MAPPING

    def state(self, stream: str) -> State | None:
        return self.states.get(stream)

    def history(self, stream: str) -> Sequence[EventEnvelope]:
        return []


def translate(record: MappedRecord, state: State | None) -> list[NewEvent]:
    """The events of ``record`` given the state of its own stream."""
    states = {own_stream(record): state} if state is not None else {}
    return translate_in(record, Streams(states)).events


def mapped(module: str, record_id: str, fields: dict[str, Any]) -> MappedRecord:
    fields = {"Created_Time": CREATED.isoformat(), **fields}
    record = ZohoRecord(module=module, record_id=record_id, modified_time=MODIFIED, fields=fields)
    result = map_record(MAPPING, record)
    assert isinstance(result, MappedRecord), result
    return result


def appointment(**changes: Any) -> MappedRecord:
    """A Bulk Read row of the Appointments module, mapped."""
    fields = {
        "Branch": "Pune Central",
        "Patient_Name": PATIENT,
        "Clinician": "pune-central-mri-1-clinician",
        "Room": "pune-central-mri-1",
        "Modality": "MRI",
        "Procedure_Code": "MRI-BRAIN",
        "Appointment_Start": "2026-03-10T10:00:00+05:30",
        "Duration": "45",
        "Status": "Scheduled",
        "Amount": "8500.00",
        "Currency": "INR",
        "Referral": "",
        "GCLID": "Cj0KCQ-synthetic-click",
        "Cancellation_Reason": "",
    }
    fields.update(changes)
    return mapped("Appointments", "5725767000000901001", fields)


def contact(**changes: Any) -> MappedRecord:
    fields: dict[str, Any] = {
        "Branch": "Mumbai West",
        "Gender": "Female",
        "Full_Name": "Asha Rao",
        "Mobile": "+91 90000 00001",
        "Email": "asha.rao@example.com",
        "Date_of_Birth": "1985-04-12",
        "Mailing_Zip": "400050",
    }
    fields.update(changes)
    return mapped("Contacts", PATIENT, fields)


def referral() -> MappedRecord:
    fields = {
        "Branch": "Pune Central",
        "Patient_Name": {"id": PATIENT, "name": "Asha Rao"},
        "Referrer": {"id": "5725767000000555001", "name": "Dr Synthetic"},
        "Referrer_Type": "GP",
    }
    return mapped("Referrals", "5725767000000777001", fields)


def payloads(record: MappedRecord, state: State | None) -> list[e.EventPayload]:
    return [new.payload for new in translate(record, state)]


def types(events: list[e.EventPayload]) -> list[str]:
    return [event.event_type for event in events]


def state_of(*records: MappedRecord) -> State | None:
    """The state after translating each record version in turn."""
    state: State | None = None
    for record in records:
        state = fold_onto(state, payloads(record, state))
    return state


def fold_onto(state: State | None, events: list[e.EventPayload]) -> State | None:
    for event in events:
        state = evolve(state, event)
    return state


# --- streams ---------------------------------------------------------------------------


def test_streams_and_branches() -> None:
    assert own_stream(appointment()) == f"appointment:{APPOINTMENT}"
    assert own_stream(contact()) == f"patient:{PATIENT}"
    assert own_stream(referral()) == "referral:5725767000000777001"
    assert translate_in(appointment(), Streams()).branch_id == "pune-central"
    assert translate_in(contact(), Streams()).branch_id == "mumbai-west"


def test_events_happen_when_the_crm_says() -> None:
    """The booking at the record's creation, a status change at the version's save."""
    booked, arrived, completed = translate(appointment(Status="Completed"), None)
    assert booked.occurred_at == CREATED
    assert arrived.occurred_at == completed.occurred_at == MODIFIED
    [registered] = translate(contact(), None)
    assert registered.occurred_at == CREATED


# --- patients and referrals --------------------------------------------------------------


def test_a_patient_first_seen_is_registered_with_personal_data_apart() -> None:
    [new] = translate(contact(), None)
    assert new.payload == e.PatientRegistered(
        patient_id=PATIENT, home_branch_id="mumbai-west", sex="female", channel=Channel.ZOHO
    )
    assert new.subject_id == PATIENT
    assert isinstance(new.personal, e.PatientPersonalData)
    assert new.personal.full_name == "Asha Rao"
    assert new.personal.phone == "+91 90000 00001"
    dumped = new.payload.model_dump_json()
    for personal in ("Asha", "Rao", "90000", "example.com", "1985", "400050"):
        assert personal not in dumped


def test_a_patient_without_sex_is_registered_as_unknown() -> None:
    [new] = translate(contact(Gender=""), None)
    assert isinstance(new.payload, e.PatientRegistered)
    assert new.payload.sex == "unknown"


def test_a_known_patient_gains_nothing_from_later_edits() -> None:
    assert fold([translate(contact(), None)[0].payload]) == Created()
    assert translate(contact(Mobile="+91 90000 00002", Full_Name="Asha R."), Created()) == []


def test_a_referral_first_seen_is_received_once() -> None:
    [new] = translate(referral(), None)
    assert new.payload == e.ReferralReceived(
        referral_id="5725767000000777001",
        patient_id=PATIENT,
        referrer_id="5725767000000555001",
        referrer_type="gp",
    )
    assert new.personal is None
    assert translate(referral(), Created()) == []


# --- appointments first seen -------------------------------------------------------------


def test_an_appointment_first_seen_is_booked_through_zoho() -> None:
    [new] = translate(appointment(), None)
    assert new.personal is None
    assert new.payload == e.AppointmentBooked(
        appointment_id=APPOINTMENT,
        patient_id=PATIENT,
        clinician_id="pune-central-mri-1-clinician",
        room_id="pune-central-mri-1",
        modality="MRI",
        procedure_code="MRI-BRAIN",
        start_at=START,
        duration_minutes=45,
        channel=Channel.ZOHO,
        price_minor=850_000,
        currency="INR",
        gclid="Cj0KCQ-synthetic-click",
    )


@pytest.mark.parametrize(
    ("status", "after_booking"),
    [
        ("Scheduled", []),
        ("Checked In", ["appointment.arrived"]),
        ("Completed", ["appointment.arrived", "appointment.completed"]),
        ("Cancelled", ["appointment.cancelled"]),
        ("No Show", ["appointment.no_show"]),
    ],
)
def test_an_appointment_first_seen_walks_to_its_status(
    status: str, after_booking: list[str]
) -> None:
    events = payloads(appointment(Status=status), None)
    assert types(events) == ["appointment.booked", *after_booking]
    state = fold(events)
    assert isinstance(state, AppointmentState)
    assert state.status == appointment(Status=status).values["status"]


def test_a_cancellation_carries_the_zoho_reason_or_a_default() -> None:
    with_reason = payloads(
        appointment(Status="Cancelled", Cancellation_Reason="Patient travelling"), None
    )
    assert with_reason[-1] == e.AppointmentCancelled(
        appointment_id=APPOINTMENT, reason="Patient travelling"
    )
    without = payloads(appointment(Status="Cancelled"), None)
    assert without[-1] == e.AppointmentCancelled(
        appointment_id=APPOINTMENT, reason="cancelled in Zoho"
    )


# --- appointments already known ------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("Scheduled", "Checked In", ["appointment.arrived"]),
        ("Scheduled", "Completed", ["appointment.arrived", "appointment.completed"]),
        ("Checked In", "Completed", ["appointment.completed"]),
        ("Scheduled", "Cancelled", ["appointment.cancelled"]),
        ("Scheduled", "No Show", ["appointment.no_show"]),
    ],
)
def test_status_walks(before: str, after: str, expected: list[str]) -> None:
    state = state_of(appointment(Status=before))
    assert types(payloads(appointment(Status=after), state)) == expected


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Completed", "Scheduled"),
        ("Completed", "Cancelled"),
        ("Cancelled", "Scheduled"),
        ("Cancelled", "Completed"),
        ("No Show", "Checked In"),
        ("No Show", "Completed"),
        ("Checked In", "Scheduled"),
        ("Checked In", "Cancelled"),
        ("Checked In", "No Show"),
    ],
)
def test_edits_our_aggregate_cannot_follow_are_ignored(before: str, after: str) -> None:
    state = state_of(appointment(Status=before))
    moved = appointment(Status=after, Appointment_Start="2026-03-12T15:00:00+05:30")
    assert translate(moved, state) == []


def test_an_unchanged_record_adds_nothing() -> None:
    for status in ZOHO_STATUS.values():
        state = state_of(appointment(Status=status))
        assert translate(appointment(Status=status), state) == []


def test_the_same_moment_in_another_offset_is_no_reschedule() -> None:
    state = state_of(appointment())
    for same in ("2026-03-10T04:30:00Z", "2026-03-10T10:00:00"):
        assert translate(appointment(Appointment_Start=same), state) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"Appointment_Start": "2026-03-10T11:00:00+05:30"},
        {"Duration": "60"},
        {"Clinician": "pune-central-mri-2-clinician"},
        {"Room": "pune-central-mri-2"},
    ],
)
def test_a_moved_appointment_is_rescheduled(changes: dict[str, str]) -> None:
    state = state_of(appointment())
    assert isinstance(state, AppointmentState)
    moved = appointment(**changes)
    [event] = payloads(moved, state)
    assert event == e.AppointmentRescheduled(
        appointment_id=APPOINTMENT,
        previous_start_at=START,
        start_at=moved.values["start_at"],
        duration_minutes=moved.values["duration_minutes"],
        clinician_id=moved.values["clinician_id"],
        room_id=moved.values["room_id"],
        reason="rescheduled in Zoho",
    )
    after = fold_onto(state, [event])
    assert translate(moved, after) == []


def test_a_move_and_a_status_change_in_one_version() -> None:
    state = state_of(appointment())
    moved = appointment(Appointment_Start="2026-03-10T11:00:00+05:30", Status="Checked In")
    events = payloads(moved, state)
    assert types(events) == ["appointment.rescheduled", "appointment.arrived"]
    after = fold_onto(state, events)
    assert isinstance(after, AppointmentState)
    assert after.start_at == LATER
    assert after.status is ARRIVED


def test_a_move_after_arrival_is_ignored() -> None:
    state = state_of(appointment(Status="Checked In"))
    assert translate(appointment(Status="Checked In", Duration="90"), state) == []


def test_other_edits_of_a_known_appointment_add_nothing() -> None:
    state = state_of(appointment())
    edited = appointment(Procedure_Code="MRI-KNEE", Amount="9000.00", GCLID="")
    assert translate(edited, state) == []


def test_no_personal_data_in_appointment_payloads() -> None:
    events = payloads(appointment(Status="Completed"), None)
    for event in events:
        assert "Asha" not in event.model_dump_json()
    assert all(new.personal is None for new in translate(appointment(), None))


def test_a_state_of_another_kind_is_refused() -> None:
    with pytest.raises(TypeError):
        translate(appointment(), Created())


# --- the property ----------------------------------------------------------------------

# The statuses an event may follow in our aggregate (its decide rules).
MAY_FOLLOW: dict[type[e.EventPayload], frozenset[AppointmentStatus]] = {
    e.AppointmentRescheduled: frozenset({BOOKED}),
    e.AppointmentArrived: frozenset({BOOKED}),
    e.AppointmentCompleted: frozenset({BOOKED, ARRIVED}),
    e.AppointmentCancelled: frozenset({BOOKED}),
    e.AppointmentNoShow: frozenset({BOOKED}),
}

versions = st.builds(
    lambda status, start, duration, clinician, room, reason: appointment(
        Status=status,
        Appointment_Start=start,
        Duration=duration,
        Clinician=clinician,
        Room=room,
        Cancellation_Reason=reason,
    ),
    status=st.sampled_from(list(ZOHO_STATUS.values())),
    start=st.sampled_from(
        [
            "2026-03-10T10:00:00+05:30",
            "2026-03-10T04:30:00Z",  # the same moment
            "2026-03-10T11:00:00",
            "2026-03-11T09:15:00+05:30",
        ]
    ),
    duration=st.sampled_from(["30", "45", "60.0"]),
    clinician=st.sampled_from(["pune-central-mri-1-clinician", "pune-central-mri-2-clinician"]),
    room=st.sampled_from(["pune-central-mri-1", "pune-central-mri-2"]),
    reason=st.sampled_from(["", "Patient travelling"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(versions, min_size=1, max_size=8))
def test_record_versions_only_ever_produce_events_the_aggregate_accepts(
    records: list[MappedRecord],
) -> None:
    emitted: list[e.EventPayload] = []
    state: State | None = None
    for record in records:
        for event in payloads(record, state):
            if isinstance(event, e.AppointmentBooked):
                assert state is None
            else:
                assert isinstance(state, AppointmentState)
                assert state.status in MAY_FOLLOW[type(event)], (state.status, event)
            state = evolve(state, event)  # raises on an event the state cannot take
            emitted.append(event)
        # Seeing the same version again (a webhook and the delta sync) adds nothing.
        assert translate(record, state) == []
    assert fold(emitted) == state
    assert translate(records[-1], fold(emitted)) == []
    assert isinstance(state, AppointmentState)
    if state.status is BOOKED:  # while booked, the aggregate follows Zoho's slot
        last = records[-1].values
        assert (state.start_at, state.duration_minutes) == (
            last["start_at"],
            last["duration_minutes"],
        )
