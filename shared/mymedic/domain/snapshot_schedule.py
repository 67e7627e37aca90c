"""A snapshot schedule's state, folded from its stream: the latest settings, or None
once removed."""

from __future__ import annotations

from dataclasses import dataclass

from mymedic.domain import events as e


@dataclass(frozen=True)
class SnapshotScheduleState:
    schedule: e.SnapshotScheduleSet | None


def evolve_snapshot_schedule(event: e.EventPayload) -> SnapshotScheduleState | None:
    """The next state of a snapshot schedule stream, or None when ``event`` is not one
    of its events."""
    match event:
        case e.SnapshotScheduleSet():
            return SnapshotScheduleState(event)
        case e.SnapshotScheduleRemoved():
            return SnapshotScheduleState(None)
    return None
