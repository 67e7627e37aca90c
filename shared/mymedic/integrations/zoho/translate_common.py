"""What the translators of each family share: the context they read, what they
return, and small helpers. See :mod:`mymedic.integrations.zoho.translate`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mymedic.domain import events as e
from mymedic.domain.aggregates import NewEvent, State
from mymedic.domain.directory import NO_FORFEITURE, CancellationPolicy
from mymedic.domain.envelope import EventEnvelope
from mymedic.domain.errors import UnknownReference
from mymedic.integrations.zoho.mapping_canonical import entity_id_field
from mymedic.integrations.zoho.mapping_model import TenantMapping
from mymedic.integrations.zoho.records import Entity, MappedRecord

CANCELLED_IN_ZOHO = "cancelled in Zoho"
RESCHEDULED_IN_ZOHO = "rescheduled in Zoho"
# The stream category of each entity's own stream (payments and refunds, blocks: none
# of their own; they live on their appointment's, invoice's or clinician's stream).
CATEGORY: dict[Entity, str] = {
    "patient": "patient",
    "appointment": "appointment",
    "referral": "referral",
    "branch": "branch",
    "clinician": "clinician",
    "room": "room",
    "procedure": "procedure",
    "referrer": "referrer",
    "invoice": "invoice",
    "nps": "nps",
    "complaint": "complaint",
}


class TranslationContext(Protocol):
    """The streams as they stand for this record: stored, plus what the batch planned."""

    @property
    def mapping(self) -> TenantMapping: ...

    def state(self, stream: str) -> State | None: ...

    def history(self, stream: str) -> Sequence[EventEnvelope]: ...


@dataclass(frozen=True)
class Translation:
    events: list[NewEvent]
    # The stream the record became (or was applied to) and the entity id it became: a
    # lookup to this record resolves to them.
    target_stream: str
    entity_id: str
    branch_id: str | None  # of the record's bookkeeping event ("*": tenant-wide)


def entity_id(record: MappedRecord) -> str:
    return str(record.values[entity_id_field(record.entity)])


def own_stream(record: MappedRecord) -> str:
    return e.stream_id(CATEGORY[record.entity], entity_id(record))


def policy(ctx: TranslationContext) -> CancellationPolicy:
    found = ctx.state(e.stream_id("policy", e.CANCELLATION_POLICY))
    return found if isinstance(found, CancellationPolicy) else NO_FORFEITURE


def branch_of_stream(ctx: TranslationContext, stream: str) -> str | None:
    """The branch a stream's events belong to (its first event's)."""
    history = ctx.history(stream)
    branch = history[0].branch_id if history else None
    return branch if branch and branch != "*" else None


class MissingParent(UnknownReference):
    """The version needs an entity the platform does not hold yet (a payment's
    appointment): it is parked until a record becomes that entity. The reason names the
    field, never the value."""

    def __init__(self, entity: str, entity_id: str, field: str) -> None:
        super().__init__(f"unknown reference: {field} ({entity} not synced yet)", field=field)
        self.waits_for = f"{entity}:{entity_id}"
