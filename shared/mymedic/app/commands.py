"""The write path: load one aggregate's stream, decide, append with its version.

Idempotency-Key: the events a keyed command produces get ids derived from the tenant
and the key (UUID v5), so a retried request is recognised by its event ids: before
deciding (the first attempt's events are in the stream: answer as the first time), and
in the store (two identical requests racing: the second append is a no-op). A key
reused for another request lands its ids on another stream and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import cast
from uuid import UUID, uuid5

from mymedic.app.reference_cache import ReferenceCache
from mymedic.domain.aggregates import (
    AppointmentState,
    Context,
    NewEvent,
    References,
    State,
    decide,
    evolve,
    fold,
    held_slots,
    references_needed,
)
from mymedic.domain.commands import Command
from mymedic.domain.directory import (
    NO_FORFEITURE,
    BranchState,
    CancellationPolicy,
    ClinicianState,
    PriceListState,
    ProcedureState,
    RoomState,
)
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.domain.errors import DomainError
from mymedic.domain.events import CANCELLATION_POLICY, stream_id
from mymedic.domain.schedule import ScheduleState, slot_changes
from mymedic.ports import (
    AppendResult,
    ConcurrencyConflict,
    EventIdReused,
    EventStore,
    StreamAppend,
)

# Namespace of the event ids derived from Idempotency-Keys (fixed: ids must not change).
IDEMPOTENCY_NAMESPACE = UUID("7b1c6f8e-5d0a-4c53-9a8e-2f1f0c9b6d41")


class IdempotencyKeyReused(DomainError):
    """The key already named another request (HTTP 422)."""


def idempotent_event_id(tenant_id: str, key: str, index: int) -> str:
    return str(uuid5(IDEMPOTENCY_NAMESPACE, f"{tenant_id}\x1f{key}\x1f{index}"))


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    stream_version: int
    event_ids: tuple[str, ...]
    correlation_id: str
    # True when this answers a retry of an Idempotency-Key already served.
    replayed: bool = False


class CommandService:
    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[], object] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._after_commit = after_commit
        self._references = ReferenceCache(store)

    def handle(
        self,
        command: Command,
        metadata: Metadata,
        idempotency_key: str | None = None,
        authorize: Callable[[str | None], None] | None = None,
    ) -> CommandResult:
        """``authorize(patient_id)``, when given, is called with the patient the command
        concerns (named in it, or the appointment's own) before anything is decided.

        A lost race on a clinician's or room's day (another booking committed between our
        read and our append) is decided again on fresh reads, so that the loser learns
        that the slot is taken rather than of a version conflict."""
        for attempt in range(1, _SCHEDULE_RETRIES + 1):
            try:
                return self._handle_once(command, metadata, idempotency_key, authorize)
            except ConcurrencyConflict as conflict:
                if not conflict.stream_id.startswith("schedule:") or attempt == _SCHEDULE_RETRIES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _handle_once(
        self,
        command: Command,
        metadata: Metadata,
        idempotency_key: str | None,
        authorize: Callable[[str | None], None] | None,
    ) -> CommandResult:
        if metadata.tenant_id != command.tenant_id:
            raise DomainError("the command names another tenant", field="tenant_id")
        tenant = command.tenant_id
        stream = stream_id(command.category, command.entity_id())
        history = self._store.read_stream(tenant, stream)
        if idempotency_key is not None:
            earlier = _served_before(history, tenant, idempotency_key)
            if earlier is not None:
                return earlier
        version = len(history)
        if command.expected_version is not None and command.expected_version != version:
            raise ConcurrencyConflict(tenant, stream, command.expected_version, version)
        if history and history[0].branch_id != command.branch_id:
            raise DomainError(
                f"{stream} belongs to branch {history[0].branch_id}", field="branch_id"
            )
        state = fold(event.data() for event in history)
        if authorize is not None:
            named = getattr(command, "patient_id", None)
            authorize(named if named is not None else getattr(state, "patient_id", None))
        now = self._clock()
        context = self._context(
            tenant, references_needed(command, state), command.occurred_at or now
        )
        decisions = decide(command, state, context)
        after = state
        for decision in decisions:
            after = evolve(after, decision.payload)
        plan: list[tuple[str, int, list[NewEvent]]] = [(stream, version, decisions)]
        if command.category in ("appointment", "clinician"):
            plan += self._schedule_plan(tenant, command.entity_id(), state, after, context)
        counter = count(1)
        appends = [
            StreamAppend(
                target,
                expected,
                [
                    build_envelope(
                        decision.payload,
                        metadata=metadata,
                        branch_id=command.branch_id,
                        stream_version=expected + offset,
                        occurred_at=command.occurred_at or now,
                        recorded_at=now,
                        personal=decision.personal,
                        subject_id=decision.subject_id,
                        event_id=(
                            idempotent_event_id(tenant, idempotency_key, next(counter))
                            if idempotency_key is not None
                            else None
                        ),
                    )
                    for offset, decision in enumerate(new_events, start=1)
                ],
            )
            for target, expected, new_events in plan
        ]
        try:
            appended: AppendResult = self._store.append_streams(tenant, appends)[0]
        except EventIdReused as exc:
            if idempotency_key is None:
                raise
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for another request",
                field="Idempotency-Key",
            ) from exc
        if appended.duplicate and idempotency_key is not None:
            # An identical request won the race: answer as it was answered.
            replay = _served_before(
                self._store.read_stream(tenant, stream), tenant, idempotency_key
            )
            if replay is not None:
                return replay
        if self._after_commit is not None:
            self._after_commit()
        return CommandResult(
            appended.stream_id, appended.stream_version, appended.event_ids, metadata.correlation_id
        )

    def _context(self, tenant: str, needed: References, now: datetime) -> Context:
        """The directory streams the decision reads, folded. They are read, not locked:
        branches, clinicians and rooms never change after registration (a clinician's
        blocks are enforced on the day streams, which are locked), and a price list or a
        policy changed while a command is decided applies from the next command on."""

        def load(category: str, entity: str | None) -> State | None:
            if entity is None:
                return None
            return self._references.load(tenant, category, entity)

        policy = load("policy", CANCELLATION_POLICY if needed.policy else None)
        return Context(
            now=now,
            branch=cast(BranchState | None, load("branch", needed.branch)),
            clinician=cast(ClinicianState | None, load("clinician", needed.clinician)),
            room=cast(RoomState | None, load("room", needed.room)),
            prices=cast(PriceListState | None, load("price_list", needed.prices)),
            policy=cast(CancellationPolicy, policy) if policy is not None else NO_FORFEITURE,
            follow_up_origin=cast(
                AppointmentState | None, load("appointment", needed.follow_up_origin)
            ),
            procedure=cast(ProcedureState | None, load("procedure", needed.procedure)),
        )

    def _schedule_plan(
        self,
        tenant: str,
        owner: str,
        before: State | None,
        after: State | None,
        context: Context,
    ) -> list[tuple[str, int, list[NewEvent]]]:
        """The clinicians' and rooms' days this change touches, with what it appends."""
        old = held_slots(owner, before, context.branch)
        new = held_slots(owner, after, context.branch)
        if set(old) == set(new):
            return []
        streams = sorted({slot.stream for slot in [*old, *new]})
        histories = {name: self._store.read_stream(tenant, name) for name in streams}
        schedules = {
            name: cast(ScheduleState | None, fold(event.data() for event in events))
            for name, events in histories.items()
        }
        changes = slot_changes(old, new, schedules)
        return [
            (name, len(histories[name]), [NewEvent(payload) for payload in payloads])
            for name, payloads in sorted(changes.items())
        ]


_SCHEDULE_RETRIES = 3


def _served_before(history: list[EventEnvelope], tenant_id: str, key: str) -> CommandResult | None:
    """The first answer to this key, rebuilt from the events it appended."""
    first = idempotent_event_id(tenant_id, key, 1)
    start = next((i for i, event in enumerate(history) if event.event_id == first), None)
    if start is None:
        return None
    served = [history[start]]
    for index, event in enumerate(history[start + 1 :], start=2):
        if event.event_id != idempotent_event_id(tenant_id, key, index):
            break
        served.append(event)
    return CommandResult(
        served[-1].stream_id,
        served[-1].stream_version,
        tuple(event.event_id for event in served),
        served[0].correlation_id,
        replayed=True,
    )
