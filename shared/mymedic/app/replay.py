"""Following the event store in global order: catch-up and full rebuilds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mymedic.app.projections import ProjectionRunner
from mymedic.ports import EventStore


@dataclass(frozen=True)
class ReplayReport:
    events: int
    last_position: int


def replay(
    store: EventStore,
    runners: Sequence[ProjectionRunner[Any]],
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Read the store once from the lowest position the runners have followed and hand
    each batch to every runner, which applies it in one unit of work and records the
    position with it. Events a runner already applied are skipped by its per-stream
    checkpoints, so catching up over live projections is harmless, and catching up
    after a reset rebuilds them."""
    position = min((runner.position() for runner in runners), default=0)
    count = 0
    while batch := store.read_all(position, batch_size):
        envelopes = [stored.envelope for stored in batch]
        position = batch[-1].global_position
        for runner in runners:
            runner.handle_batch(envelopes, position=position)
        count += len(batch)
        if progress is not None:
            progress(len(batch))
    return ReplayReport(count, position)
