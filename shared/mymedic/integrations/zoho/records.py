"""The shapes every Zoho path shares: a raw record as read (REST JSON, Bulk Read CSV or
a workflow webhook body), and what the tenant's field mapping makes of it.

Every path (webhook, delta sync, backfill) produces :class:`ZohoRecord` s and hands
them to the same ingestion, so one record version yields one set of events whichever
way it came.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mymedic.domain.events import ZohoEntity

Source = Literal["webhook", "delta", "backfill", "formula_refresh", "retry"]
# The canonical entities a Zoho module may be read as (the events' own list).
Entity = ZohoEntity


@dataclass(frozen=True)
class ZohoRecord:
    module: str  # the module's API name, e.g. "Contacts", "Appointments"
    record_id: str  # Zoho's record id (digits, as a string)
    modified_time: datetime  # Modified_Time, timezone-aware
    # Field API name -> value as Zoho gave it: JSON values from REST (a lookup is
    # {"id": ..., "name": ...}), strings from a Bulk Read CSV (a lookup is its id).
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MappedRecord:
    """A record in canonical terms, ready for translation into events."""

    module: str
    record_id: str
    modified_time: datetime
    entity: Entity
    # Canonical field name -> value, coerced (dates and datetimes parsed, picklists
    # through the value maps); personal fields (names, phone, e-mail, date of birth,
    # postcode) are kept apart, as the event envelope keeps them.
    values: dict[str, Any]
    personal: dict[str, Any] = field(default_factory=dict)
    mapping_version: int = 0
    # Canonical fields fed by a Zoho lookup still to resolve: name -> (module, Zoho id).
    # The ingestion replaces each by the id of the entity that record became.
    lookups: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Resolved lookups: canonical name -> the stream the looked-up record was applied to
    # (a payment's appointment or invoice, say).
    targets: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Quarantined:
    """A record that cannot become events, and why (unknown module, a required field
    unmapped or empty, an unparsable date, a value outside its picklist map)."""

    module: str
    record_id: str
    modified_time: datetime | None
    reason: str
    field: str | None = None
