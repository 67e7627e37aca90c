"""What one mapped Zoho record version adds to its aggregate: pure, no I/O.

The ingestion folds the record's stream (:func:`target_stream`), calls
:func:`translate` with that state and appends what comes back. Translating a version
against the state its own events produced yields nothing, so a record seen twice (a
webhook and the delta sync, a backfill over synced data) adds nothing the second time.

Imported appointments reserve no clinician or room slots: Zoho is the system of
record for its own bookings, and its calendar may legitimately hold what our booking
rules would refuse (overlaps, times outside working hours, past dates). The events
carry ``channel = "zoho"`` so read models can tell them apart.
"""

from __future__ import annotations

from typing import Any

from mymedic.domain import events as e
from mymedic.domain.aggregates import AppointmentState, NewEvent, State
from mymedic.domain.types import AppointmentStatus, Channel
from mymedic.integrations.zoho.records import MappedRecord

BOOKED = AppointmentStatus.BOOKED
ARRIVED = AppointmentStatus.ARRIVED
COMPLETED = AppointmentStatus.COMPLETED
CANCELLED = AppointmentStatus.CANCELLED
NO_SHOW = AppointmentStatus.NO_SHOW
CANCELLED_IN_ZOHO = "cancelled in Zoho"
RESCHEDULED_IN_ZOHO = "rescheduled in Zoho"

# The status events that take an appointment from one status to another, in the
# order our aggregate allows them. A pair not listed (completed -> booked, arrived ->
# cancelled, anything out of a terminal status) is not a transition we can record.
_WALKS: dict[tuple[AppointmentStatus, AppointmentStatus], tuple[type[e.EventPayload], ...]] = {
    (BOOKED, ARRIVED): (e.AppointmentArrived,),
    (BOOKED, COMPLETED): (e.AppointmentArrived, e.AppointmentCompleted),
    (ARRIVED, COMPLETED): (e.AppointmentCompleted,),
    (BOOKED, CANCELLED): (e.AppointmentCancelled,),
    (BOOKED, NO_SHOW): (e.AppointmentNoShow,),
}


def entity_id(record: MappedRecord) -> str:
    return str(record.values[f"{record.entity}_id"])


def target_stream(record: MappedRecord) -> str:
    """The stream the record's events belong to: ``<entity>:<id>``."""
    return e.stream_id(record.entity, entity_id(record))


def branch_of(record: MappedRecord) -> str:
    return str(record.values["branch_id"])


def translate(record: MappedRecord, state: State | None) -> list[NewEvent]:
    """The events this record version adds, given its stream's current state."""
    if record.entity == "appointment":
        return [NewEvent(payload) for payload in _appointment(record.values, state)]
    if state is not None:
        # Patients and referrals are created once. There is no patient-update (nor
        # referral-update) event in the catalogue, so later edits in Zoho (a new
        # phone number, a corrected name) change nothing here.
        return []
    if record.entity == "patient":
        return [_registration(record)]
    return [NewEvent(_referral(record.values))]


def _registration(record: MappedRecord) -> NewEvent:
    values = record.values
    payload = e.PatientRegistered(
        patient_id=values["patient_id"],
        home_branch_id=values["branch_id"],
        sex=values.get("sex") or "unknown",
        channel=Channel.ZOHO,
    )
    # Personal data travels apart from the payload, keyed by the patient.
    personal = e.PatientPersonalData.model_validate(record.personal)
    return NewEvent(payload, personal, payload.patient_id)


def _referral(values: dict[str, Any]) -> e.ReferralReceived:
    return e.ReferralReceived(
        referral_id=values["referral_id"],
        patient_id=values["patient_id"],
        referrer_id=values["referrer_id"],
        referrer_type=values["referrer_type"],
    )


def _appointment(values: dict[str, Any], state: State | None) -> list[e.EventPayload]:
    target = AppointmentStatus(values["status"])
    if state is None:
        return [_booking(values), *_walk(values, BOOKED, target)]
    if not isinstance(state, AppointmentState):
        raise TypeError(f"appointment {values['appointment_id']} folds to {type(state).__name__}")
    # Only the time and the resources have a change event; other edits in Zoho (the
    # patient, the procedure, the price) have none and are not carried over.
    changes: list[e.EventPayload] = []
    if state.status is BOOKED and _slot(values) != _slot_of(state):
        changes.append(
            e.AppointmentRescheduled(
                appointment_id=values["appointment_id"],
                previous_start_at=state.start_at,
                start_at=values["start_at"],
                duration_minutes=values["duration_minutes"],
                clinician_id=values["clinician_id"],
                room_id=values["room_id"],
                reason=RESCHEDULED_IN_ZOHO,
            )
        )
    return [*changes, *_walk(values, state.status, target)]


def _booking(values: dict[str, Any]) -> e.AppointmentBooked:
    return e.AppointmentBooked(
        appointment_id=values["appointment_id"],
        patient_id=values["patient_id"],
        clinician_id=values["clinician_id"],
        room_id=values["room_id"],
        modality=values["modality"],
        procedure_code=values["procedure_code"],
        start_at=values["start_at"],
        duration_minutes=values["duration_minutes"],
        channel=Channel.ZOHO,
        price_minor=values["price_minor"],
        currency=values["currency"],
        referral_id=values.get("referral_id"),
        gclid=values.get("gclid"),
    )


def _walk(
    values: dict[str, Any], current: AppointmentStatus, target: AppointmentStatus
) -> list[e.EventPayload]:
    """The status events from ``current`` to ``target``. None when they are equal, and
    none when our aggregate has no such transition: Zoho edits after a terminal status
    (completed, cancelled, no-show), or back to an earlier one, are ignored."""
    apt = values["appointment_id"]
    walk: list[e.EventPayload] = []
    for step in _WALKS.get((current, target), ()):
        if step is e.AppointmentCancelled:
            reason = values.get("cancel_reason") or CANCELLED_IN_ZOHO
            walk.append(e.AppointmentCancelled(appointment_id=apt, reason=reason))
        else:
            walk.append(step.model_validate({"appointment_id": apt}))
    return walk


def _slot(values: dict[str, Any]) -> tuple[Any, ...]:
    return (
        values["start_at"],
        values["duration_minutes"],
        values["clinician_id"],
        values["room_id"],
    )


def _slot_of(state: AppointmentState) -> tuple[Any, ...]:
    return (state.start_at, state.duration_minutes, state.clinician_id, state.room_id)
