"""Publishing events to the Pub/Sub events topic, ordered per stream."""

from __future__ import annotations

import contextlib

from google.api_core import exceptions as gexc
from google.cloud.pubsub_v1 import PublisherClient
from google.cloud.pubsub_v1.publisher.exceptions import PublishError
from google.cloud.pubsub_v1.types import PublisherOptions

from mymedic.adapters.gcp.errors import TRANSIENT
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import TransientBackendError


def ordering_key(event: EventEnvelope) -> str:
    return f"{event.tenant_id}/{event.stream_id}"


def attributes(event: EventEnvelope) -> dict[str, str]:
    return {
        "tenant_id": event.tenant_id,
        "event_type": event.event_type,
        "stream_id": event.stream_id,
        "stream_version": str(event.stream_version),
        "event_id": event.event_id,
    }


class PubSubBus:
    def __init__(self, publisher: PublisherClient, topic_path: str, timeout: float = 10.0) -> None:
        self._publisher = publisher
        self._topic = topic_path
        self._timeout = timeout

    @staticmethod
    def client() -> PublisherClient:
        # Ordering keys must be switched on in the client as well as the subscription.
        return PublisherClient(publisher_options=PublisherOptions(enable_message_ordering=True))

    def publish(self, event: EventEnvelope) -> None:
        key = ordering_key(event)
        try:
            future = self._publisher.publish(
                self._topic,
                event.model_dump_json().encode(),
                ordering_key=key,
                **attributes(event),
            )
            future.result(timeout=self._timeout)
        except (
            *TRANSIENT,
            gexc.GoogleAPICallError,
            PublishError,
        ) as exc:
            # A failed publish pauses its ordering key; resume it so that the outbox's
            # next attempt (and the stream's later events) can go out.
            with contextlib.suppress(RuntimeError):  # the key was not paused (a timeout)
                self._publisher.resume_publish(self._topic, key)
            raise TransientBackendError(f"publish to {self._topic}: {exc}") from exc
