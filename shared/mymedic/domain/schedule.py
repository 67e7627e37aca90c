"""Resource days: one stream per clinician or room and clinic day holding the intervals
reserved on it, by appointment or by a clinician's block. An appointment or a block
reserves its intervals in the same transaction as its own event, so no two overlap."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mymedic.domain import events as e
from mymedic.domain.errors import DomainError

BLOCK_PREFIX = "block:"


class SlotTaken(DomainError):
    """The clinician or the room is already taken for part of the interval (HTTP 409)."""


@dataclass(frozen=True)
class ScheduleState:
    """The intervals reserved on one resource's day, by holder (an appointment id, or
    ``block:<id>`` for a clinician's blocked time)."""

    reservations: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)


def evolve_schedule(state: ScheduleState | None, event: e.EventPayload) -> ScheduleState | None:
    held = state.reservations if state is not None else {}
    match event:
        case e.SlotReserved():
            return ScheduleState({**held, event.appointment_id: (event.start_at, event.end_at)})
        case e.TimeBlocked():
            key = BLOCK_PREFIX + event.block_id
            return ScheduleState({**held, key: (event.start_at, event.end_at)})
        case e.SlotReleased():
            return ScheduleState({k: v for k, v in held.items() if k != event.appointment_id})
        case e.TimeUnblocked():
            key = BLOCK_PREFIX + event.block_id
            return ScheduleState({k: v for k, v in held.items() if k != key})
    return None


@dataclass(frozen=True)
class Slot:
    kind: str  # "clinician" | "room"
    resource_id: str
    start_at: datetime  # in the branch's wall-clock offset: its date is the clinic day
    end_at: datetime
    holder: str  # appointment id, or block:<id>

    @property
    def day(self) -> date:
        return self.start_at.date()

    @property
    def stream(self) -> str:
        return e.stream_id("schedule", e.schedule_entity(self.kind, self.resource_id, self.day))


def split_by_day(
    start_at: datetime, end_at: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """An interval cut at the branch's midnights, each piece in local time."""
    pieces: list[tuple[datetime, datetime]] = []
    start, end = start_at.astimezone(zone), end_at.astimezone(zone)
    while start < end:
        midnight = datetime.combine(start.date() + timedelta(days=1), time(), zone)
        piece_end = min(end, midnight)
        pieces.append((start, piece_end))
        start = piece_end
    return pieces


def slot_changes(
    old: Iterable[Slot], new: Iterable[Slot], schedules: dict[str, ScheduleState | None]
) -> dict[str, list[e.EventPayload]]:
    """What a change of held slots does to the resources' days: release what is no
    longer held, reserve what now is, refusing any overlap with another holder.
    ``schedules`` holds the current state of every stream the slots name."""
    before, after = set(old), set(new)
    changes: dict[str, list[e.EventPayload]] = {}
    for slot in sorted(before - after, key=_order):
        changes.setdefault(slot.stream, []).append(_release(slot))
    for slot in sorted(after - before, key=_order):
        state = schedules.get(slot.stream)
        for other, (start, end) in (state.reservations if state else {}).items():
            if other != slot.holder and start < slot.end_at and slot.start_at < end:
                raise SlotTaken(
                    f"{slot.kind} {slot.resource_id} is {_taken_by(other)} from "
                    f"{start.isoformat()} to {end.isoformat()}",
                    field=f"{slot.kind}_id",
                )
        changes.setdefault(slot.stream, []).append(_reserve(slot))
    return changes


def _order(slot: Slot) -> tuple[str, datetime, str]:
    return (slot.stream, slot.start_at, slot.holder)


def _taken_by(holder: str) -> str:
    if holder.startswith(BLOCK_PREFIX):
        return f"blocked ({holder.removeprefix(BLOCK_PREFIX)})"
    return f"booked (appointment {holder})"


def _release(slot: Slot) -> e.EventPayload:
    if slot.holder.startswith(BLOCK_PREFIX):
        return e.TimeUnblocked(
            resource_id=slot.resource_id,
            day=slot.day,
            block_id=slot.holder.removeprefix(BLOCK_PREFIX),
        )
    return e.SlotReleased(
        resource_kind=slot.kind,
        resource_id=slot.resource_id,
        day=slot.day,
        appointment_id=slot.holder,
    )


def _reserve(slot: Slot) -> e.EventPayload:
    if slot.holder.startswith(BLOCK_PREFIX):
        return e.TimeBlocked(
            resource_id=slot.resource_id,
            day=slot.day,
            block_id=slot.holder.removeprefix(BLOCK_PREFIX),
            start_at=slot.start_at,
            end_at=slot.end_at,
        )
    return e.SlotReserved(
        resource_kind=slot.kind,
        resource_id=slot.resource_id,
        day=slot.day,
        appointment_id=slot.holder,
        start_at=slot.start_at,
        end_at=slot.end_at,
    )
