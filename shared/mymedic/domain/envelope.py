"""The event envelope: the immutable record the event store keeps and the bus carries."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any, Literal
from uuid import uuid4

import orjson
from pydantic import BaseModel, ConfigDict, Field

from mymedic.domain.events import (
    PERSONAL_DATA_MODELS,
    EventPayload,
    decode_payload,
    stream_category,
)
from mymedic.domain.types import AwareDatetime, Identifier


class Metadata(BaseModel):
    """Who and what caused an event: copied onto every event a command produces."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: Identifier
    actor: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=100)
    correlation_id: str = Field(default_factory=lambda: str(uuid4()))
    causation_id: str | None = None


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    event_type: str
    schema_version: int = Field(ge=1)
    tenant_id: Identifier
    # ``*``: a tenant-wide fact (the cancellation policy); None: no branch applies.
    branch_id: Identifier | Literal["*"] | None
    stream_id: str = Field(min_length=3, max_length=200)
    stream_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    causation_id: str | None = None
    correlation_id: str
    actor: str
    source: str
    payload: dict[str, Any]
    # Personal data of ``subject_id`` (a patient), kept apart from the payload (and from
    # the warehouse) so that it can be encrypted per patient later: it is not encrypted
    # yet. None for events that carry none.
    subject_id: str | None = None
    personal: dict[str, Any] | None = None

    @property
    def category(self) -> str:
        return stream_category(self.stream_id)

    @cached_property
    def _decoded(self) -> EventPayload:
        return decode_payload(self.event_type, self.schema_version, self.payload)

    def data(self) -> EventPayload:
        """The typed payload, decoded once per envelope however many projections ask."""
        return self._decoded

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> EventEnvelope:
        return cls.model_validate_json(raw)


def new_event_id() -> str:
    return str(uuid4())


def build_envelope(
    payload: EventPayload,
    *,
    metadata: Metadata,
    branch_id: str | None,
    stream_version: int,
    occurred_at: datetime,
    recorded_at: datetime,
    event_id: str | None = None,
    personal: BaseModel | None = None,
    subject_id: str | None = None,
) -> EventEnvelope:
    expected_personal = PERSONAL_DATA_MODELS.get(payload.event_type)
    if personal is not None and not isinstance(personal, expected_personal or ()):
        raise TypeError(f"{payload.event_type} does not carry {type(personal).__name__}")
    if occurred_at.utcoffset() is None or recorded_at.utcoffset() is None:
        raise ValueError("occurred_at and recorded_at must carry a timezone")
    # Every part was validated already (the payload and personal models, the metadata,
    # the aware timestamps), so the envelope is assembled without validating it again.
    return EventEnvelope.model_construct(
        event_id=event_id or new_event_id(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        tenant_id=metadata.tenant_id,
        branch_id=branch_id,
        stream_id=payload.stream_id(),
        stream_version=stream_version,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        causation_id=metadata.causation_id,
        correlation_id=metadata.correlation_id,
        actor=metadata.actor,
        source=metadata.source,
        payload=payload.model_dump(mode="json"),
        subject_id=subject_id if personal is not None else None,
        personal=personal.model_dump(mode="json") if personal is not None else None,
    )
