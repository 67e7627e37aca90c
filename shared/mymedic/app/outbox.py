"""The outbox relay: hands every appended event to the bus, at least once, in order."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from mymedic.ports import EventBus, EventStore

log = logging.getLogger(__name__)


@dataclass
class RelayReport:
    published: int = 0
    failed: int = 0
    dead_lettered: int = 0


class OutboxRelay:
    def __init__(
        self, store: EventStore, bus: EventBus, max_attempts: int, batch_size: int = 500
    ) -> None:
        self._store = store
        self._bus = bus
        self._max_attempts = max_attempts
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def drain(self) -> RelayReport:
        """One pass over the outbox. A failed event stays there (or, past the attempt
        limit, moves to the dead letters with its reason) and the pass goes on."""
        report = RelayReport()
        with self._lock:
            after = 0
            while batch := self._store.pending_outbox(after, self._batch_size):
                published: list[int] = []
                for stored in batch:
                    try:
                        self._bus.publish(stored.envelope)
                    except Exception as exc:  # noqa: BLE001 - every failure is recorded
                        reason = f"{type(exc).__name__}: {exc}"
                        log.warning(
                            "delivery of event %s failed: %s", stored.envelope.event_id, reason
                        )
                        report.failed += 1
                        if self._store.record_delivery_failure(
                            stored.global_position, reason, self._max_attempts
                        ):
                            report.dead_lettered += 1
                    else:
                        published.append(stored.global_position)
                self._store.mark_published(published)
                report.published += len(published)
                after = batch[-1].global_position
        return report
