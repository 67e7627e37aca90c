"""The Pub/Sub bus and the outbox relay against the Pub/Sub emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import pubsub_v1

from mymedic.adapters.gcp.pubsub_bus import PubSubBus
from mymedic.adapters.local.event_store import SqliteEventStore
from mymedic.app.outbox import OutboxRelay
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import TransientBackendError
from tests.contract.events import appointment_events

pytestmark = pytest.mark.emulator


@pytest.fixture
def topic(pubsub_emulator: Any, gcp_project: str) -> Iterator[tuple[str, str]]:
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(gcp_project, "events")
    subscription = subscriber.subscription_path(gcp_project, "all-events")
    publisher.create_topic(name=topic_path)
    subscriber.create_subscription(
        request={"name": subscription, "topic": topic_path, "enable_message_ordering": True}
    )
    yield topic_path, subscription
    subscriber.close()


def _pull(subscription: str, expected: int, timeout: float = 20) -> list[Any]:
    subscriber = pubsub_v1.SubscriberClient()
    received: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(received) < expected and time.monotonic() < deadline:
        response = subscriber.pull(subscription=subscription, max_messages=100, timeout=5)
        if response.received_messages:
            subscriber.acknowledge(
                subscription=subscription,
                ack_ids=[m.ack_id for m in response.received_messages],
            )
        received += [m.message for m in response.received_messages]
    subscriber.close()
    return received


def test_events_carry_attributes_and_the_stream_as_ordering_key(
    topic: tuple[str, str],
) -> None:
    topic_path, subscription = topic
    bus = PubSubBus(PubSubBus.client(), topic_path)
    events = appointment_events()
    for event in events:
        bus.publish(event)
    messages = _pull(subscription, 3)
    assert [EventEnvelope.model_validate_json(m.data) for m in messages] == events
    first = messages[0]
    assert first.ordering_key == "t1/appointment:a1"
    assert dict(first.attributes) == {
        "tenant_id": "t1",
        "event_type": "appointment.booked",
        "stream_id": "appointment:a1",
        "stream_version": "1",
        "event_id": events[0].event_id,
    }


def test_a_publish_failure_after_commit_is_repaired_by_the_relay(
    pubsub_emulator: Any, gcp_project: str, tmp_path: Path
) -> None:
    publisher = PubSubBus.client()
    topic_path = publisher.topic_path(gcp_project, "late-topic")
    bus = PubSubBus(publisher, topic_path, timeout=5)
    store = SqliteEventStore(tmp_path / "events.sqlite")
    store.append("t1", "appointment:a1", 0, appointment_events())
    relay = OutboxRelay(store, bus, max_attempts=5)

    # The topic does not exist yet: publishing fails, the commit stands, nothing is lost.
    failed = relay.drain()
    assert (failed.published, failed.failed) == (0, 3)
    assert len(store.pending_outbox()) == 3

    publisher.create_topic(name=topic_path)
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(gcp_project, "late")
    subscriber.create_subscription(name=subscription, topic=topic_path)
    repaired = relay.drain()
    assert (repaired.published, repaired.failed) == (3, 0)
    assert store.pending_outbox() == []
    assert len(_pull(subscription, 3)) == 3
    store.close()


def test_an_unreachable_pubsub_fails_fast_with_a_typed_error(gcp_project: str) -> None:
    import os

    from mymedic.emulators import free_port

    saved = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{free_port()}"
    try:
        publisher = PubSubBus.client()
        bus = PubSubBus(publisher, publisher.topic_path(gcp_project, "t"), timeout=3)
        started = time.monotonic()
        with pytest.raises(TransientBackendError):
            bus.publish(appointment_events()[0])
        assert time.monotonic() - started < 15
    finally:
        if saved is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = saved
