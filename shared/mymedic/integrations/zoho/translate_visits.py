"""Patients, referrals, appointments, NPS responses and complaints from Zoho. Pure; see
:mod:`mymedic.integrations.zoho.translate`.

An appointment is booked when its record is first seen, at the record's creation (so a
lead time is the start less the moment it was booked in the CRM, never less a later
edit), then walked to the status the version shows, at the status time (a mapped field,
else the version's Modified_Time). A cancellation or a no-show forfeits deposits under
the tenant's cancellation policy exactly as it does when made through MyMedic.
Changes our aggregate has no event for (the patient, the procedure) are not carried;
Zoho edits after a terminal status (completed, cancelled, no-show), or back to an
earlier one, are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from mymedic.domain import events as e
from mymedic.domain.aggregates import (
    AppointmentState,
    ComplaintState,
    NewEvent,
    deposit_forfeiture,
    evolve,
)
from mymedic.domain.directory import ProcedureState, ReferrerState
from mymedic.domain.types import AppointmentStatus, Channel
from mymedic.integrations.zoho import translate_money as money
from mymedic.integrations.zoho.records import MappedRecord
from mymedic.integrations.zoho.translate_common import (
    CANCELLED_IN_ZOHO,
    RESCHEDULED_IN_ZOHO,
    MissingParent,
    Translation,
    TranslationContext,
    branch_of_stream,
    entity_id,
    own_stream,
    policy,
)

BOOKED = AppointmentStatus.BOOKED
ARRIVED = AppointmentStatus.ARRIVED
COMPLETED = AppointmentStatus.COMPLETED
CANCELLED = AppointmentStatus.CANCELLED
NO_SHOW = AppointmentStatus.NO_SHOW

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


def _created(record: MappedRecord) -> datetime:
    created = record.values.get("created_at")
    return created if isinstance(created, datetime) else record.modified_time


def _created_once(
    record: MappedRecord,
    ctx: TranslationContext,
    payload: e.EventPayload,
    *,
    personal: Any = None,
    subject: str | None = None,
    branch: str | None = None,
) -> Translation:
    """A create-only entity: its event once, at the record's creation."""
    stream = own_stream(record)
    events = []
    if ctx.state(stream) is None:
        events.append(
            NewEvent(payload, personal, subject, occurred_at=_created(record), branch_id=branch)
        )
    return Translation(events, stream, entity_id(record), branch)


def patient(record: MappedRecord, ctx: TranslationContext) -> Translation:
    # There is no patient-update event: later edits in Zoho (a new phone number, a
    # corrected name) change nothing here.
    values = record.values
    payload = e.PatientRegistered(
        patient_id=values["patient_id"],
        home_branch_id=values["branch_id"],
        sex=values.get("sex") or "unknown",
        channel=Channel.ZOHO,
    )
    personal = e.PatientPersonalData.model_validate(record.personal)
    return _created_once(
        record,
        ctx,
        payload,
        personal=personal,
        subject=payload.patient_id,
        branch=values["branch_id"],
    )


def referral(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    kind = values.get("referrer_type")
    if kind is None:
        referrer = ctx.state(e.stream_id("referrer", values["referrer_id"]))
        if not isinstance(referrer, ReferrerState):
            raise MissingParent("referrer", values["referrer_id"], "referrer_type")
        kind = referrer.referrer_type
    payload = e.ReferralReceived(
        referral_id=values["referral_id"],
        patient_id=values["patient_id"],
        referrer_id=values["referrer_id"],
        referrer_type=kind,
    )
    return _created_once(record, ctx, payload, branch=values["branch_id"])


def nps(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    payload = e.NpsResponseRecorded(
        response_id=values["response_id"],
        patient_id=values["patient_id"],
        appointment_id=values.get("appointment_id"),
        score=values["score"],
    )
    personal = e.FreeTextPersonalData(**record.personal) if record.personal else None
    branch = _feedback_branch(ctx, values)
    return _created_once(
        record,
        ctx,
        payload,
        personal=personal,
        subject=payload.patient_id if personal else None,
        branch=branch,
    )


def complaint(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    stream = own_stream(record)
    state = ctx.state(stream)
    branch = _feedback_branch(ctx, values)
    status = values.get("status") or "open"
    events: list[NewEvent] = []
    if not isinstance(state, ComplaintState):
        recorded = e.ComplaintRecorded(
            complaint_id=values["complaint_id"],
            patient_id=values.get("patient_id"),
            appointment_id=values.get("appointment_id"),
            complaint_category=values["complaint_category"],
        )
        personal = e.FreeTextPersonalData(**record.personal) if record.personal else None
        subject = recorded.patient_id if personal is not None else None
        if personal is not None and subject is None:
            personal = None  # free text with nobody to erase it with is not kept
        events.append(
            NewEvent(recorded, personal, subject, occurred_at=_created(record), branch_id=branch)
        )
        current = "open"
    else:
        current = state.status
    if status != current:
        events.append(
            NewEvent(
                e.ComplaintStatusChanged(complaint_id=values["complaint_id"], status=status),
                occurred_at=record.modified_time,
                branch_id=branch,
            )
        )
    return Translation(events, stream, entity_id(record), branch)


def _feedback_branch(ctx: TranslationContext, values: dict[str, Any]) -> str | None:
    """The branch of a response or complaint: its own field, else its appointment's,
    else its patient's home branch."""
    if values.get("branch_id"):
        return str(values["branch_id"])
    if values.get("appointment_id"):
        found = branch_of_stream(ctx, e.stream_id("appointment", values["appointment_id"]))
        if found:
            return found
    if values.get("patient_id"):
        return branch_of_stream(ctx, e.stream_id("patient", values["patient_id"]))
    return None


# --- appointments -----------------------------------------------------------------------


def appointment(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = _with_procedure(record.values, ctx)
    stream = own_stream(record)
    branch = str(values["branch_id"])
    state = ctx.state(stream)
    events: list[NewEvent] = []
    if state is None:
        booked = _booking(values)
        events.append(NewEvent(booked, occurred_at=_created(record), branch_id=branch))
        state = cast(AppointmentState, evolve(None, booked))
    elif not isinstance(state, AppointmentState):
        raise TypeError(f"appointment {values['appointment_id']} folds to {type(state).__name__}")
    elif state.status is BOOKED and _slot(values) != _slot_of(state):
        moved = e.AppointmentRescheduled(
            appointment_id=values["appointment_id"],
            previous_start_at=state.start_at,
            start_at=values["start_at"],
            duration_minutes=values["duration_minutes"],
            clinician_id=values["clinician_id"],
            room_id=values["room_id"],
            reason=RESCHEDULED_IN_ZOHO,
        )
        events.append(NewEvent(moved, occurred_at=record.modified_time, branch_id=branch))
        state = cast(AppointmentState, evolve(state, moved))
    at = values.get("status_changed_at") or record.modified_time
    for step in _walk(values, state.status, AppointmentStatus(values["status"])):
        events.append(NewEvent(step, occurred_at=at, branch_id=branch))
        before = state
        state = cast(AppointmentState, evolve(state, step))
        trigger = _forfeiture_trigger(step)
        if trigger is not None:
            for kept in deposit_forfeiture(
                values["appointment_id"], before, policy(ctx), at, trigger
            ):
                events.append(NewEvent(kept, occurred_at=at, branch_id=branch))
                state = cast(AppointmentState, evolve(state, kept))
    if ctx.mapping.billing_source == "crm_amount":
        events += money.crm_bill(record, values, state, ctx, branch=branch)
    return Translation(events, stream, entity_id(record), branch)


def _forfeiture_trigger(step: e.EventPayload) -> Any:
    if isinstance(step, e.AppointmentCancelled):
        return "late_cancellation"
    if isinstance(step, e.AppointmentNoShow):
        return "no_show"
    return None


def _with_procedure(values: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    """The modality and duration from the procedure's catalogue entry, when the record
    does not give them."""
    if values.get("modality") is not None and values.get("duration_minutes") is not None:
        return values
    code = values["procedure_code"]
    found = ctx.state(e.stream_id("procedure", code))
    if not isinstance(found, ProcedureState):
        raise MissingParent("procedure", code, "procedure_code")
    return {
        **values,
        "modality": values.get("modality") or found.modality,
        "duration_minutes": values.get("duration_minutes") or found.duration_minutes,
    }


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
        channel=values.get("channel") or Channel.ZOHO,
        price_minor=values["price_minor"],
        currency=values["currency"],
        referral_id=values.get("referral_id"),
        gclid=values.get("gclid"),
    )


def _walk(
    values: dict[str, Any], current: AppointmentStatus, target: AppointmentStatus
) -> list[e.EventPayload]:
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
