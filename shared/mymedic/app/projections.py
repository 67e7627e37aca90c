"""Running projections: in stream order, exactly once in effect, catching up on gaps."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import CheckpointedUnitOfWork, EventStore

U = TypeVar("U", bound=CheckpointedUnitOfWork)
U_co = TypeVar("U_co", bound=CheckpointedUnitOfWork, covariant=True)
U_contra = TypeVar("U_contra", bound=CheckpointedUnitOfWork, contravariant=True)


class Projection(Protocol[U_contra]):
    name: str
    # Stream categories this projection reads; it keeps a checkpoint for each such stream.
    categories: frozenset[str]

    def prefetch(self, uow: U_contra, events: Sequence[EventEnvelope]) -> None: ...

    def apply(self, uow: U_contra, event: EventEnvelope) -> None: ...


class Target(Protocol[U_co]):
    def unit_of_work(self) -> AbstractContextManager[U_co]: ...


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


class ProjectionRunner(Generic[U]):
    def __init__(self, projection: Projection[U], target: Target[U], store: EventStore) -> None:
        self.projection = projection
        self.target = target
        self.store = store
        self.stats = RunnerStats()

    @property
    def name(self) -> str:
        return self.projection.name

    def __call__(self, event: EventEnvelope) -> None:
        self.handle_batch([event])

    def position(self) -> int:
        """The global store position this runner has followed up to (0: never)."""
        with self.target.unit_of_work() as uow:
            return uow.checkpoint(self.projection.name, *ALL_STREAMS)

    def handle_batch(self, events: Sequence[EventEnvelope], *, position: int | None = None) -> None:
        """Apply a batch in one unit of work. ``position``, when the batch was read from
        the store in global order, is recorded in the same unit of work."""
        relevant = [e for e in events if e.category in self.projection.categories]
        if not relevant and position is None:
            return
        with self.target.unit_of_work() as uow:
            uow.prefetch_checkpoints(
                self.projection.name, {(e.tenant_id, e.stream_id) for e in relevant}
            )
            self.projection.prefetch(uow, relevant)
            for event in relevant:
                self._apply_in_order(uow, event)
            if position is not None:
                followed = uow.checkpoint(self.projection.name, *ALL_STREAMS)
                if position > followed:
                    uow.set_checkpoint(self.projection.name, *ALL_STREAMS, position)

    def _apply_in_order(self, uow: U, event: EventEnvelope) -> None:
        name = self.projection.name
        last = uow.checkpoint(name, event.tenant_id, event.stream_id)
        if event.stream_version <= last:
            self.stats.skipped += 1
            return
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
                self.projection.apply(uow, earlier)
            self.stats.caught_up += len(missing)
        self.projection.apply(uow, event)
        self.stats.applied += 1
        uow.set_checkpoint(name, event.tenant_id, event.stream_id, event.stream_version)
