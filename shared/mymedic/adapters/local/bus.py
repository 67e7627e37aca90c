"""The in-process bus: every subscriber gets each event, synchronously, in order."""

from __future__ import annotations

from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Subscriber


class DeliveryFailed(Exception):
    pass


class InProcessBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []

    def subscribe(self, name: str, handler: Subscriber) -> None:
        self._subscribers.append((name, handler))

    def publish(self, event: EventEnvelope) -> None:
        # Every subscriber is tried even when one fails: the event stays in the outbox
        # and is delivered again to all, which idempotent projections shrug off.
        failures = []
        for name, handler in self._subscribers:
            try:
                handler(event)
            except Exception as exc:  # noqa: BLE001 - any subscriber error is a failed delivery
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
        if failures:
            raise DeliveryFailed("; ".join(failures))
