"""Decoding the Pub/Sub push message a projection function receives as a CloudEvent."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import ValidationError

from mymedic.domain.envelope import EventEnvelope


class PoisonMessage(ValueError):
    """A message that no retry can fix: undecodable, or not an event envelope."""


def decode_pubsub_event(data: Any) -> EventEnvelope:
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise PoisonMessage("the CloudEvent data carries no Pub/Sub message")
    encoded = data["message"].get("data")
    if not isinstance(encoded, str):
        raise PoisonMessage("the Pub/Sub message has no data")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PoisonMessage(f"message data is not base64: {exc}") from exc
    try:
        return EventEnvelope.model_validate_json(raw)
    except ValidationError as exc:
        raise PoisonMessage(f"message data is not an event envelope: {exc}") from exc


def encode_pubsub_message(envelope: EventEnvelope) -> dict[str, Any]:
    """The ``message`` part of a push delivery, as Pub/Sub would send it."""
    return {
        "data": base64.b64encode(envelope.model_dump_json().encode()).decode(),
        "attributes": {
            "tenant_id": envelope.tenant_id,
            "event_type": envelope.event_type,
            "stream_id": envelope.stream_id,
        },
        "orderingKey": f"{envelope.tenant_id}/{envelope.stream_id}",
        "messageId": envelope.event_id,
    }
