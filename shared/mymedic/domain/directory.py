"""The tenant's reference data as folded state, and the rules bookings check against it:
branches (time zone, city, currency), clinicians (modalities, working hours, blocked
time), rooms (modalities), price lists (per branch and procedure, effective from a
date) and the cancellation policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mymedic.domain import events as e
from mymedic.domain.errors import DomainError, UnknownReference


@dataclass(frozen=True)
class BranchState:
    branch_id: str
    display_name: str
    city: str
    timezone: str
    currency: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


@dataclass(frozen=True)
class ClinicianState:
    clinician_id: str
    branch_id: str
    display_name: str
    modalities: frozenset[str]
    working_hours: tuple[e.WorkingHours, ...]
    blocks: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class RoomState:
    room_id: str
    branch_id: str
    display_name: str
    modalities: frozenset[str]


@dataclass(frozen=True)
class PriceListState:
    # (effective_from, entries by procedure), in effective date order.
    versions: tuple[tuple[date, dict[str, e.PriceEntry]], ...] = ()

    def price_on(self, day: date, procedure_code: str) -> tuple[e.PriceEntry, date] | None:
        """The entry in force on ``day`` and the date it took effect."""
        found: tuple[e.PriceEntry, date] | None = None
        for effective_from, entries in self.versions:
            if effective_from > day:
                break
            if procedure_code in entries:
                found = (entries[procedure_code], effective_from)
        return found


@dataclass(frozen=True)
class ProcedureState:
    """A procedure of the tenant's catalogue: its latest modality and duration, and its
    tenant-wide prices by the date each takes effect."""

    procedure_code: str
    display_name: str | None
    modality: str
    duration_minutes: int
    # (effective_from, entry), in effective date order.
    prices: tuple[tuple[date, e.PriceEntry], ...] = ()

    def price_on(self, day: date) -> tuple[e.PriceEntry, date] | None:
        found: tuple[e.PriceEntry, date] | None = None
        for effective_from, entry in self.prices:
            if effective_from > day:
                break
            found = (entry, effective_from)
        return found


@dataclass(frozen=True)
class ReferrerState:
    referrer_id: str
    referrer_type: str


@dataclass(frozen=True)
class CancellationPolicy:
    forfeit_within_hours: int = 0
    forfeit_percent: int = 0
    forfeit_on_no_show: bool = False


NO_FORFEITURE = CancellationPolicy()

Reference = (
    BranchState
    | ClinicianState
    | RoomState
    | PriceListState
    | ProcedureState
    | ReferrerState
    | CancellationPolicy
)


def evolve_reference(state: Reference | None, event: e.EventPayload) -> Reference | None:
    """The next state of a directory stream, or None when ``event`` is not one of them."""
    match event:
        case e.BranchRegistered():
            return BranchState(
                event.branch_id, event.display_name, event.city, event.timezone, event.currency
            )
        case e.ClinicianRegistered():
            # A registration again (a new version from Zoho) keeps the blocks.
            return ClinicianState(
                event.clinician_id,
                event.branch_id,
                event.display_name,
                frozenset(event.modalities),
                tuple(event.working_hours),
                blocks=state.blocks if isinstance(state, ClinicianState) else {},
            )
        case e.ClinicianTimeBlocked() if isinstance(state, ClinicianState):
            blocks = {**state.blocks, event.block_id: (event.start_at, event.end_at)}
            return ClinicianState(**{**state.__dict__, "blocks": blocks})
        case e.ClinicianTimeUnblocked() if isinstance(state, ClinicianState):
            blocks = {k: v for k, v in state.blocks.items() if k != event.block_id}
            return ClinicianState(**{**state.__dict__, "blocks": blocks})
        case e.RoomRegistered():
            return RoomState(
                event.room_id, event.branch_id, event.display_name, frozenset(event.modalities)
            )
        case e.PriceListUpdated():
            versions = dict(state.versions) if isinstance(state, PriceListState) else {}
            merged = {**versions.get(event.effective_from, {})}
            merged.update({entry.procedure_code: entry for entry in event.prices})
            versions[event.effective_from] = merged
            return PriceListState(tuple(sorted(versions.items(), key=lambda item: item[0])))
        case e.ProcedureRegistered():
            prices = dict(state.prices) if isinstance(state, ProcedureState) else {}
            if event.price_minor is not None and event.effective_from is not None:
                prices[event.effective_from] = e.PriceEntry(
                    procedure_code=event.procedure_code,
                    modality=event.modality,
                    price_minor=event.price_minor,
                    currency=event.currency or "",
                    duration_minutes=event.duration_minutes,
                )
            return ProcedureState(
                event.procedure_code,
                event.display_name,
                event.modality,
                event.duration_minutes,
                tuple(sorted(prices.items(), key=lambda item: item[0])),
            )
        case e.ReferrerRegistered():
            return ReferrerState(event.referrer_id, event.referrer_type.value)
        case e.CancellationPolicySet():
            return CancellationPolicy(
                event.forfeit_within_hours, event.forfeit_percent, event.forfeit_on_no_show
            )
    return None


# --- the checks a booking or a move makes --------------------------------------------------


def require_branch(branch: BranchState | None, branch_id: str) -> BranchState:
    if branch is None:
        raise UnknownReference(f"branch {branch_id} is not registered", field="branch_id")
    return branch


def require_clinician(
    clinician: ClinicianState | None, clinician_id: str, branch_id: str, modality: str
) -> ClinicianState:
    if clinician is None:
        raise UnknownReference(f"clinician {clinician_id} is not registered", field="clinician_id")
    if clinician.branch_id != branch_id:
        raise DomainError(
            f"clinician {clinician_id} works at branch {clinician.branch_id}, not {branch_id}",
            field="clinician_id",
        )
    if modality not in clinician.modalities:
        raise DomainError(
            f"clinician {clinician_id} does not perform {modality}", field="clinician_id"
        )
    return clinician


def require_room(room: RoomState | None, room_id: str, branch_id: str, modality: str) -> RoomState:
    if room is None:
        raise UnknownReference(f"room {room_id} is not registered", field="room_id")
    if room.branch_id != branch_id:
        raise DomainError(f"room {room_id} is at branch {room.branch_id}", field="room_id")
    if modality not in room.modalities:
        raise DomainError(f"room {room_id} has no {modality}", field="room_id")
    return room


def require_price(
    prices: PriceListState | None,
    branch: BranchState,
    procedure_code: str,
    modality: str,
    booked_at: datetime,
    *,
    procedure: ProcedureState | None = None,
) -> tuple[e.PriceEntry, date]:
    """The price in force at the branch on the (local) day the booking is made: the
    branch's own price list first, else the tenant's procedure catalogue (in the
    branch's currency)."""
    day = branch.local(booked_at).date()
    found = prices.price_on(day, procedure_code) if prices is not None else None
    if found is None and procedure is not None:
        tenant_wide = procedure.price_on(day)
        if tenant_wide is not None and tenant_wide[0].currency == branch.currency:
            found = tenant_wide
    if found is None:
        raise UnknownReference(
            f"branch {branch.branch_id} has no price for {procedure_code} in force on {day}",
            field="procedure_code",
        )
    entry, _ = found
    if entry.modality != modality:
        raise DomainError(
            f"{procedure_code} is a {entry.modality} procedure, not {modality}", field="modality"
        )
    return found


def require_within_working_hours(
    clinician: ClinicianState, branch: BranchState, start_at: datetime, end_at: datetime
) -> None:
    """The interval must lie inside one of the clinician's working intervals of that
    weekday, in the branch's wall-clock time."""
    start, end = branch.local(start_at), branch.local(end_at)
    if end.date() != start.date() and end.time() != datetime.min.time():
        raise DomainError("an appointment must end on the day it starts", field="start_at")
    for hours in clinician.working_hours:
        if hours.weekday != start.weekday():
            continue
        if hours.start <= start.time() and (end - timedelta(microseconds=1)).time() < hours.end:
            return
    raise DomainError(
        f"{start.strftime('%A %H:%M')}-{end.strftime('%H:%M')} ({branch.timezone}) is "
        f"outside clinician {clinician.clinician_id}'s working hours",
        field="start_at",
    )


def require_future(start_at: datetime, booked_at: datetime) -> None:
    """A booking or a move must start after the moment it is made (when the command
    says it happened, or when it arrived). A block need only end after it: a clinician
    sent home at 11:00 is blocked from 11:00 by a command made at 11:30."""
    if start_at <= booked_at:
        raise DomainError(
            f"the start {start_at.isoformat()} is not after the booking time "
            f"{booked_at.isoformat()}",
            field="start_at",
        )
