"""Rebuilding projections from the event store, in global order, in large batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mymedic.ports import EventStore


@dataclass(frozen=True)
class ReplayReport:
    events: int
    last_position: int


def replay(
    store: EventStore,
    runners: Sequence[Any],
    *,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Feed every stored event to each runner's ``handle_batch``; runners skip what
    their checkpoints say they applied, so a replay over live projections is harmless
    and one after a reset rebuilds them."""
    position = 0
    count = 0
    while batch := store.read_all(position, batch_size):
        envelopes = [stored.envelope for stored in batch]
        for runner in runners:
            runner.handle_batch(envelopes)
        position = batch[-1].global_position
        count += len(batch)
        if progress is not None:
            progress(len(batch))
    return ReplayReport(count, position)
