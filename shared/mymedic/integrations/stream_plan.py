"""Events planned per stream against streams read once, then appended together in one
``append_streams`` transaction, each stream checked against the version it was read at
(a race with another writer is a ConcurrencyConflict: plan again from fresh reads)."""

from __future__ import annotations

from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import EventStore, StreamAppend


class StreamPlan:
    def __init__(self, store: EventStore, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.history: dict[str, list[EventEnvelope]] = {}
        self.pending: dict[str, list[EventEnvelope]] = {}

    def read(self, stream: str) -> list[EventEnvelope]:
        if stream not in self.history:
            self.history[stream] = self.store.read_stream(self.tenant_id, stream)
        return self.history[stream]

    def planned(self, stream: str) -> list[EventEnvelope]:
        """The stream as it will be: what was read, then what is planned on it."""
        return [*self.read(stream), *self.pending.get(stream, [])]

    def next_version(self, stream: str) -> int:
        return len(self.read(stream)) + len(self.pending.get(stream, [])) + 1

    def add(self, envelope: EventEnvelope) -> None:
        self.pending.setdefault(envelope.stream_id, []).append(envelope)

    def appends(self) -> list[StreamAppend]:
        return [
            StreamAppend(stream, len(self.history[stream]), events)
            for stream, events in self.pending.items()
        ]
