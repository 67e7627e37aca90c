"""The write path: load one aggregate's stream, decide, append with its version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from mymedic.domain.aggregates import decide, fold
from mymedic.domain.commands import Command
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.domain.errors import DomainError
from mymedic.domain.events import stream_id
from mymedic.ports import AppendResult, ConcurrencyConflict, EventStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    stream_version: int
    event_ids: tuple[str, ...]
    correlation_id: str


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

    def handle(self, command: Command, metadata: Metadata) -> CommandResult:
        if metadata.tenant_id != command.tenant_id:
            raise DomainError("the command names another tenant", field="tenant_id")
        stream = stream_id(command.category, command.entity_id())
        history = self._store.read_stream(command.tenant_id, stream)
        version = len(history)
        if command.expected_version is not None and command.expected_version != version:
            raise ConcurrencyConflict(command.tenant_id, stream, command.expected_version, version)
        if history and history[0].branch_id != command.branch_id:
            raise DomainError(
                f"{stream} belongs to branch {history[0].branch_id}", field="branch_id"
            )
        decisions = decide(command, fold(event.data() for event in history))
        now = self._clock()
        envelopes: list[EventEnvelope] = [
            build_envelope(
                decision.payload,
                metadata=metadata,
                branch_id=command.branch_id,
                stream_version=version + offset,
                occurred_at=command.occurred_at or now,
                recorded_at=now,
                personal=decision.personal,
                subject_id=decision.subject_id,
            )
            for offset, decision in enumerate(decisions, start=1)
        ]
        appended: AppendResult = self._store.append(command.tenant_id, stream, version, envelopes)
        if self._after_commit is not None:
            self._after_commit()
        return CommandResult(
            appended.stream_id, appended.stream_version, appended.event_ids, metadata.correlation_id
        )
