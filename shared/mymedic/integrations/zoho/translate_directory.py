"""The directory from Zoho: branches, clinicians (Users), rooms and their equipment,
procedures (Products), referrers, and clinicians' leave. Each is registered when its
record is first seen (at the record's creation) and registered again, as a new version,
when a later version changes what the platform keeps (at that version's time). A
branch's time zone and currency cannot change: every date of its history depends on
them. Pure; see :mod:`mymedic.integrations.zoho.translate`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mymedic.domain import events as e
from mymedic.domain.aggregates import NewEvent
from mymedic.domain.directory import (
    BranchState,
    ClinicianState,
    ProcedureState,
    ReferrerState,
    RoomState,
)
from mymedic.domain.errors import DomainError
from mymedic.integrations.zoho.records import MappedRecord
from mymedic.integrations.zoho.translate_common import (
    MissingParent,
    Translation,
    TranslationContext,
    entity_id,
    own_stream,
)


def _created_or_changed(record: MappedRecord, known: bool) -> datetime:
    """A first registration happened when the record was created; a new version when
    this version was saved."""
    created = record.values.get("created_at")
    return record.modified_time if known or not isinstance(created, datetime) else created


def _registered(
    record: MappedRecord, payload: e.EventPayload, changed: bool, known: bool, branch: str | None
) -> Translation:
    events = (
        [NewEvent(payload, occurred_at=_created_or_changed(record, known), branch_id=branch)]
        if changed
        else []
    )
    return Translation(events, own_stream(record), entity_id(record), branch or "*")


def branch(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    payload = e.BranchRegistered(
        branch_id=values["branch_id"],
        display_name=values["display_name"],
        city=values["city"],
        timezone=values["timezone"],
        currency=values["currency"],
    )
    return branch_registration(record, ctx, payload)


def branch_registration(
    record: MappedRecord, ctx: TranslationContext, payload: e.BranchRegistered
) -> Translation:
    state = ctx.state(own_stream(record))
    if isinstance(state, BranchState) and (state.timezone, state.currency) != (
        payload.timezone,
        payload.currency,
    ):
        raise DomainError(
            "a branch's time zone or currency cannot change (every date and amount of its "
            "history depends on them): register a new branch",
            field="timezone" if state.timezone != payload.timezone else "currency",
        )
    changed = not isinstance(state, BranchState) or (state.display_name, state.city) != (
        payload.display_name,
        payload.city,
    )
    return _registered(record, payload, changed, state is not None, payload.branch_id)


def clinician(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    payload = e.ClinicianRegistered(
        clinician_id=values["clinician_id"],
        branch_id=values["branch_id"],
        display_name=values["display_name"],
        modalities=values["modalities"],
        working_hours=values["working_hours"],
    )
    state = ctx.state(own_stream(record))
    changed = not isinstance(state, ClinicianState) or (
        state.branch_id,
        state.display_name,
        state.modalities,
        set(state.working_hours),
    ) != (
        payload.branch_id,
        payload.display_name,
        frozenset(payload.modalities),
        set(payload.working_hours),
    )
    return _registered(record, payload, changed, state is not None, payload.branch_id)


def room(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    payload = e.RoomRegistered(
        room_id=values["room_id"],
        branch_id=values["branch_id"],
        display_name=values["display_name"],
        modalities=values["modalities"],
        equipment=values.get("equipment") or [],
    )
    state = ctx.state(own_stream(record))
    before = _room_versions(ctx, own_stream(record))
    changed = not isinstance(state, RoomState) or before != _room_fields(payload)
    return _registered(record, payload, changed, state is not None, payload.branch_id)


def _room_fields(payload: e.RoomRegistered) -> tuple[Any, ...]:
    return (
        payload.branch_id,
        payload.display_name,
        frozenset(payload.modalities),
        tuple(payload.equipment),
    )


def _room_versions(ctx: TranslationContext, stream: str) -> tuple[Any, ...] | None:
    """The latest registration's fields (the folded state keeps no equipment)."""
    for envelope in reversed(ctx.history(stream)):
        data = envelope.data()
        if isinstance(data, e.RoomRegistered):
            return _room_fields(data)
    return None


def procedure(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    state = ctx.state(own_stream(record))
    known = isinstance(state, ProcedureState)
    price = values.get("price_minor")
    effective = values.get("effective_from")
    if price is not None and effective is None:
        moment = _created_or_changed(record, known)
        effective = moment.astimezone(ctx.mapping.zone).date()
    currency = values.get("currency") if price is not None else None
    if price is not None and currency is None:
        raise DomainError("a procedure's price needs its currency", field="currency")
    payload = e.ProcedureRegistered(
        procedure_code=values["procedure_code"],
        display_name=values.get("display_name"),
        modality=values["modality"],
        duration_minutes=values["duration_minutes"],
        price_minor=price,
        currency=currency,
        effective_from=effective if price is not None else None,
    )
    current_price = None
    if isinstance(state, ProcedureState) and state.prices:
        current_price = (state.prices[-1][1].price_minor, state.prices[-1][1].currency)
    changed = not isinstance(state, ProcedureState) or (
        (state.display_name, state.modality, state.duration_minutes)
        != (payload.display_name, payload.modality, payload.duration_minutes)
        or (price is not None and current_price != (price, currency))
    )
    return _registered(record, payload, changed, known, None)


def referrer(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    payload = e.ReferrerRegistered(
        referrer_id=values["referrer_id"], referrer_type=values["referrer_type"]
    )
    state = ctx.state(own_stream(record))
    changed = not isinstance(state, ReferrerState) or state.referrer_type != payload.referrer_type
    return _registered(record, payload, changed, state is not None, None)


def block(record: MappedRecord, ctx: TranslationContext) -> Translation:
    """A clinician's leave or other blocked time, on the clinician's stream: blocked
    when first seen active (at its creation), blocked again when its times change,
    unblocked when its status says cancelled."""
    values = record.values
    clinician_id = values["clinician_id"]
    stream = e.stream_id("clinician", clinician_id)
    state = ctx.state(stream)
    if not isinstance(state, ClinicianState):
        raise MissingParent("clinician", clinician_id, "clinician_id")
    block_id = values["block_id"]
    held = state.blocks.get(block_id)
    cancelled = values.get("status") == "cancelled"
    events: list[NewEvent] = []
    if cancelled and held is not None:
        events.append(
            NewEvent(
                e.ClinicianTimeUnblocked(clinician_id=clinician_id, block_id=block_id),
                occurred_at=record.modified_time,
                branch_id=state.branch_id,
            )
        )
    elif not cancelled and held != (values["start_at"], values["end_at"]):
        if values["end_at"] <= values["start_at"]:
            raise DomainError("a block must end after it starts", field="end_at")
        known = _was_blocked(ctx, stream, block_id)
        events.append(
            NewEvent(
                e.ClinicianTimeBlocked(
                    clinician_id=clinician_id,
                    block_id=block_id,
                    start_at=values["start_at"],
                    end_at=values["end_at"],
                    reason=values.get("reason") or "blocked in Zoho",
                ),
                occurred_at=_created_or_changed(record, known),
                branch_id=state.branch_id,
            )
        )
    return Translation(events, stream, block_id, state.branch_id)


def _was_blocked(ctx: TranslationContext, stream: str, block_id: str) -> bool:
    return any(
        isinstance(data := envelope.data(), e.ClinicianTimeBlocked) and data.block_id == block_id
        for envelope in ctx.history(stream)
    )
