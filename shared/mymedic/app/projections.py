"""Running projections: in stream order, exactly once in effect, catching up on gaps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import CheckpointedUnitOfWork, EventStore

U = TypeVar("U", bound=CheckpointedUnitOfWork)
U_co = TypeVar("U_co", bound=CheckpointedUnitOfWork, covariant=True)
T = TypeVar("T")
U_contra = TypeVar("U_contra", bound=CheckpointedUnitOfWork, contravariant=True)


class Projection(Protocol[U_contra]):
    name: str
    # Stream categories this projection reads; it keeps a checkpoint for each such stream.
    categories: frozenset[str]

    def prefetch(self, uow: U_contra, events: Sequence[EventEnvelope]) -> None: ...

    def apply(self, uow: U_contra, event: EventEnvelope) -> None: ...


# Optionally, a projection has ``requires(event)``: the streams (tenant_id, stream_id)
# whose first event it must have applied before ``event``, whatever the order of
# delivery (the warehouse facts date a payment by its branch's time zone, registered on
# the branch's own stream). The runner applies that first event first if it has not.
Requires = Callable[[EventEnvelope], Sequence[tuple[str, str]]]


def _no_requirements(event: EventEnvelope) -> Sequence[tuple[str, str]]:
    return ()


class Target(Protocol[U_co]):
    def transact(self, work: Callable[[U_co], T]) -> T: ...


# The checkpoint key under which a runner that follows the store records the global
# position it has read up to (beside its per-stream checkpoints).
ALL_STREAMS = ("*", "$all")


class StreamGap(Exception):
    """The store does not (yet) hold the events before the one delivered: retry later."""


@dataclass
class RunnerStats:
    applied: int = 0
    skipped: int = 0
    caught_up: int = 0

    def add(self, other: RunnerStats) -> None:
        self.applied += other.applied
        self.skipped += other.skipped
        self.caught_up += other.caught_up


class ProjectionRunner(Generic[U]):
    def __init__(self, projection: Projection[U], target: Target[U], store: EventStore) -> None:
        self.projection = projection
        self.target = target
        self.store = store
        self.stats = RunnerStats()
        self._requires: Requires = getattr(projection, "requires", _no_requirements)

    @property
    def name(self) -> str:
        return self.projection.name

    def __call__(self, event: EventEnvelope) -> None:
        self.handle_batch([event])

    def position(self) -> int:
        """The global store position this runner has followed up to (0: never)."""
        name = self.projection.name
        return self.target.transact(lambda uow: uow.checkpoint(name, *ALL_STREAMS))

    def handle_batch(self, events: Sequence[EventEnvelope], *, position: int | None = None) -> None:
        """Apply a batch in one unit of work. ``position``, when the batch was read from
        the store in global order, is recorded in the same unit of work."""
        relevant = [e for e in events if e.category in self.projection.categories]
        if not relevant and position is None:
            return
        self.stats.add(self.target.transact(lambda uow: self._apply(uow, relevant, position)))

    def _apply(self, uow: U, events: Sequence[EventEnvelope], position: int | None) -> RunnerStats:
        # Counted per attempt and returned, so that a retried unit of work counts once.
        stats = RunnerStats()
        name = self.projection.name
        streams = {(e.tenant_id, e.stream_id) for e in events}
        streams |= {required for e in events for required in self._requires(e)}
        uow.prefetch_checkpoints(name, streams)
        self.projection.prefetch(uow, events)
        for event in events:
            self._apply_in_order(uow, event, stats)
        if position is not None and position > uow.checkpoint(name, *ALL_STREAMS):
            uow.set_checkpoint(name, *ALL_STREAMS, position)
        return stats

    def _apply_in_order(self, uow: U, event: EventEnvelope, stats: RunnerStats) -> None:
        name = self.projection.name
        last = uow.checkpoint(name, event.tenant_id, event.stream_id)
        if event.stream_version <= last:
            stats.skipped += 1
            return
        for tenant_id, stream_id in self._requires(event):
            stats.caught_up += self._apply_first(uow, tenant_id, stream_id)
        if event.stream_version > last + 1:
            missing = self.store.read_stream(
                event.tenant_id, event.stream_id, last, event.stream_version - 1
            )
            if len(missing) != event.stream_version - last - 1:
                raise StreamGap(
                    f"{name}: {event.stream_id} jumps from {last} to {event.stream_version}"
                    " and the store cannot fill the gap"
                )
            for earlier in missing:
                for tenant_id, stream_id in self._requires(earlier):
                    stats.caught_up += self._apply_first(uow, tenant_id, stream_id)
                self.projection.apply(uow, earlier)
            stats.caught_up += len(missing)
        self.projection.apply(uow, event)
        stats.applied += 1
        uow.set_checkpoint(name, event.tenant_id, event.stream_id, event.stream_version)

    def _apply_first(self, uow: U, tenant_id: str, stream_id: str) -> int:
        """Apply the first event of a stream this projection has applied none of (none:
        a stream the store does not hold, e.g. a branch no one registered)."""
        name = self.projection.name
        if uow.checkpoint(name, tenant_id, stream_id) > 0:
            return 0
        first = self.store.read_stream(tenant_id, stream_id, 0, 1)
        for event in first:
            self.projection.apply(uow, event)
            uow.set_checkpoint(name, tenant_id, stream_id, event.stream_version)
        return len(first)
