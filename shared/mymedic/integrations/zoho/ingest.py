"""Ingestion: Zoho record versions in, canonical events out, each version exactly once.

Every path (webhook, delta sync, backfill) hands its :class:`ZohoRecord` s to
:meth:`ZohoIngestor.ingest`. Per record version:

1. skip it if its record stream ``zoho:{module}:{id}`` already synced this version
   (a duplicate) or a newer one (stale), or quarantined it under this mapping version;
2. map it with the tenant's mapping (a failure is quarantined: the reason in the
   payload, the raw record in the envelope's personal part);
3. fold its target aggregate, translate, and append the canonical events with
   ``zoho.record_synced`` on the record stream.

Records are committed in batches, one ``append_streams`` transaction per batch (with,
optionally, the caller's progress event, so that the backfill's resume point moves
with the events it counts). Within a batch, two versions of one record and two records
of one aggregate see each other's effects: streams are planned in memory. Event ids are
derived from the record version, so a batch that loses a race (a version conflict, or
ids stored by the winner) is planned again from fresh reads, and what the winner wrote
is then recognised as duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from itertools import islice
from typing import Any, Protocol
from uuid import uuid4

import orjson
from pydantic import ValidationError

from mymedic.app.commands import utc_now
from mymedic.domain import events as e
from mymedic.domain.aggregates import State, evolve, fold
from mymedic.domain.directory import BranchState
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.domain.errors import DomainError
from mymedic.integrations.zoho.mapping import (
    CANONICAL,
    Ignored,
    Reject,
    TenantMapping,
    entity_id_field,
    map_fields,
    map_record,
)
from mymedic.integrations.zoho.records import MappedRecord, Quarantined, Source, ZohoRecord
from mymedic.integrations.zoho.streams import (
    SYNCED_INDEX,
    RecordHistory,
    content_hash,
    quarantine_index,
    raw_version_key,
    record_history,
    record_stream,
    refreshed_version_key,
    version_key,
    zoho_event_id,
)
from mymedic.integrations.zoho.translate import Translation, translate
from mymedic.integrations.zoho.translate_common import CATEGORY, MissingParent
from mymedic.ports import (
    ConcurrencyConflict,
    EventIdReused,
    EventStore,
    StreamAppend,
)

log = logging.getLogger(__name__)

ACTOR = "integration:zoho"
DEFAULT_BATCH_SIZE = 200
# Attempts at one batch: each lost race re-plans it from fresh reads.
MAX_ATTEMPTS = 5
MAX_REASON = 500
# A release may release in turn (a refund parked on a payment parked on its
# appointment): this many rounds at most per batch.
MAX_RELEASE_ROUNDS = 5
# References checked to exist when the tenant keeps these entities in Zoho: a record
# naming a branch, clinician, room, procedure or referrer the directory does not hold is
# quarantined (and parked until it does). Other references (a patient, an appointment)
# are checked by the translations that need what they name.
DIRECTORY: frozenset[str] = frozenset({"branch", "clinician", "room", "procedure", "referrer"})


@dataclass(frozen=True)
class Unreadable:
    """A row that could not become a :class:`ZohoRecord` at all (no ``Id``, an
    unparsable ``Modified_Time``): quarantined as it is."""

    quarantined: Quarantined
    fields: dict[str, Any]


Item = ZohoRecord | Unreadable


@dataclass
class IngestStats:
    seen: int = 0
    applied: int = 0  # versions synced (their canonical events appended, maybe none)
    duplicates: int = 0  # this version was synced (or quarantined) already
    stale: int = 0  # a newer version was synced already
    quarantined: int = 0
    ignored: int = 0  # not this entity's records (ignore_without)
    events: int = 0  # canonical events appended
    # The newest Modified_Time among the records seen (the delta sync's next watermark).
    modified_through: datetime | None = None

    def add(self, other: IngestStats) -> None:
        for name in ("seen", "applied", "duplicates", "stale", "quarantined", "ignored", "events"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.see(other.modified_through)

    def see(self, modified_time: datetime | None) -> None:
        if modified_time is not None and (
            self.modified_through is None or modified_time > self.modified_through
        ):
            self.modified_through = modified_time

    def to_dict(self) -> dict[str, Any]:
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["modified_through"] = (
            self.modified_through.isoformat() if self.modified_through else None
        )
        return body


class BatchHook(Protocol):
    """A caller's own event, committed in the same transaction as each batch."""

    def append_for(self, consumed: int) -> StreamAppend | None:
        """The append to commit with the batch that ends after ``consumed`` items of
        this ingest call. Called again if the batch is retried: no side effects."""
        ...

    def committed(self, consumed: int, stats: IngestStats) -> None:
        """The batch ending after ``consumed`` items is committed."""
        ...


@dataclass
class _Stream:
    version: int  # as read
    history: list[EventEnvelope]
    pending: list[EventEnvelope] = field(default_factory=list)
    state: State | None = None
    folded: bool = False

    @property
    def next_version(self) -> int:
        return self.version + len(self.pending) + 1


class _Plan:
    """The appends of one batch, planned against streams read once per attempt. It is
    the translators' context: every stream as stored plus what the batch planned."""

    def __init__(self, store: EventStore, mapping: TenantMapping) -> None:
        self._store = store
        self._tenant = mapping.tenant_id
        self._mapping = mapping
        self.streams: dict[str, _Stream] = {}
        # What records of this batch became (see ``record_key``, ``entity_key``): the
        # versions parked on them can be taken up again.
        self.arrived: list[str] = []

    @property
    def mapping(self) -> TenantMapping:
        return self._mapping

    def stream(self, stream_id: str) -> _Stream:
        found = self.streams.get(stream_id)
        if found is None:
            history = self._store.read_stream(self._tenant, stream_id)
            found = _Stream(len(history), history)
            self.streams[stream_id] = found
        return found

    def state(self, stream_id: str) -> State | None:
        stream = self.stream(stream_id)
        if not stream.folded:
            state = fold(envelope.data() for envelope in stream.history)
            for envelope in stream.pending:
                state = evolve(state, envelope.data())
            stream.state, stream.folded = state, True
        return stream.state

    def history(self, stream_id: str) -> list[EventEnvelope]:
        stream = self.stream(stream_id)
        return [*stream.history, *stream.pending]

    def record(self, module: str, record_id: str) -> RecordHistory:
        return record_history(self.history(record_stream(module, record_id)))

    def add(self, envelope: EventEnvelope) -> None:
        stream = self.stream(envelope.stream_id)
        if stream.folded:
            stream.state = evolve(stream.state, envelope.data())
        stream.pending.append(envelope)

    def appends(self) -> list[StreamAppend]:
        return [
            StreamAppend(stream_id, stream.version, stream.pending)
            for stream_id, stream in self.streams.items()
            if stream.pending
        ]


class ZohoIngestor:
    def __init__(
        self,
        store: EventStore,
        mapping: TenantMapping,
        *,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[], object] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store = store
        self.mapping = mapping
        self.tenant_id = mapping.tenant_id
        self._clock = clock
        self._after_commit = after_commit
        self.batch_size = batch_size

    def ingest(
        self,
        records: Iterable[Item],
        source: Source,
        *,
        hook: BatchHook | None = None,
        correlation_id: str | None = None,
    ) -> IngestStats:
        """Ingest records in batches of ``batch_size``, one transaction per batch."""
        total = IngestStats()
        consumed = 0
        correlation = correlation_id or str(uuid4())
        for batch in _batches(records, self.batch_size):
            consumed += len(batch)
            stats, arrived = self._commit(batch, source, correlation, hook, consumed)
            total.add(stats)
            total.add(self._release(arrived, correlation))
        return total

    def _release(self, arrived: Sequence[str], correlation_id: str) -> IngestStats:
        """Ingest again the versions parked on what just arrived (a payment whose
        appointment was synced in this batch), then what those release in turn."""
        released = IngestStats()
        keys = list(dict.fromkeys(arrived))
        for _ in range(MAX_RELEASE_ROUNDS):
            waiting = self._parked_versions(keys)
            if not waiting:
                break
            keys = []
            for batch in _batches(waiting, self.batch_size):
                stats, more = self._commit(batch, "retry", correlation_id, None, 0)
                released.add(stats)
                keys += more
        return released

    def _parked_versions(self, keys: Sequence[str]) -> list[Item]:
        """The parked versions still unsynced that wait on ``keys``, rebuilt from their
        quarantine events (the raw record is in the personal part)."""
        found: list[Item] = []
        for key in keys:
            stream = e.stream_id(e.ZohoRecordParked.category, key)
            if self.store.stream_version(self.tenant_id, stream) == 0:
                continue
            for envelope in self.store.read_stream(self.tenant_id, stream):
                parked = envelope.data()
                if not isinstance(parked, e.ZohoRecordParked):
                    continue
                history = self.store.read_stream(
                    self.tenant_id, record_stream(parked.module, parked.record_id)
                )
                record = _parked_record(history, parked)
                if record is not None:
                    found.append(record)
        return found

    def _commit(
        self,
        batch: Sequence[Item],
        source: Source,
        correlation_id: str,
        hook: BatchHook | None,
        consumed: int,
    ) -> tuple[IngestStats, list[str]]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            plan = _Plan(self.store, self.mapping)
            stats = IngestStats()
            self._plan_branches(plan, correlation_id)
            for item in batch:
                self._plan_item(plan, item, source, correlation_id, stats)
            appends = plan.appends()
            extra = hook.append_for(consumed) if hook is not None else None
            if extra is not None:
                # First, so that a conflict on it (another run of the same job) is the
                # one reported.
                appends.insert(0, extra)
            if not appends:
                break
            try:
                results = self.store.append_streams(self.tenant_id, appends)
            except ConcurrencyConflict as exc:
                if (extra is not None and exc.stream_id == extra.stream_id) or (
                    attempt == MAX_ATTEMPTS
                ):
                    raise
                log.info("zoho batch lost a race on %s; planning it again", exc.stream_id)
                continue
            except EventIdReused:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.info("zoho batch found its event ids stored; planning it again")
                continue
            if all(result.duplicate for result in results):
                # An identical batch was committed already (a retried commit).
                stats.duplicates += stats.applied
                stats.applied = 0
                stats.events = 0
            elif self._after_commit is not None:
                self._after_commit()
            break
        if hook is not None:
            hook.committed(consumed, stats)
        return stats, plan.arrived

    # --- planning one record -------------------------------------------------------------

    def _plan_item(
        self,
        plan: _Plan,
        item: Item,
        source: Source,
        correlation_id: str,
        stats: IngestStats,
    ) -> None:
        stats.seen += 1
        if isinstance(item, Unreadable):
            self._quarantine(plan, item.quarantined, item.fields, correlation_id, stats)
            return
        stats.see(item.modified_time)
        history = plan.record(item.module, item.record_id)
        if history.synced_through is not None and history.synced_through > item.modified_time:
            stats.stale += 1
            return
        try:
            mapped = map_record(self.mapping, item)
        except (ValueError, TypeError, KeyError, DomainError) as exc:
            rejected, detail = _rejected(item, "mapping failed", exc)
            self._quarantine(plan, rejected, item.fields, correlation_id, stats, detail=detail)
            return
        if isinstance(mapped, Ignored):
            stats.ignored += 1
            return
        if isinstance(mapped, Quarantined):
            # The mapping's reason may quote the offending value: it goes to the
            # personal part; the payload says what kind of problem, and where.
            safe = _value_free(self.mapping, item, mapped)
            self._quarantine(plan, safe, item.fields, correlation_id, stats, detail=mapped.reason)
            return
        digest = content_hash(
            {"values": mapped.values, "personal": mapped.personal, "lookups": mapped.lookups}
        )
        version = version_key(item.modified_time)
        if history.synced_through == item.modified_time:
            if history.content_hash is None or history.content_hash == digest:
                stats.duplicates += 1
                return
            version = refreshed_version_key(item.modified_time, digest)
        try:
            mapped = self._resolved(plan, mapped, history)
            if mapped.entity == "appointment":
                mapped = self._localized(plan, mapped)
            translation = self._translated(plan, mapped)
        except MissingParent as missing:
            waits = _Unresolved(missing.message, missing.field or "", missing.waits_for)
            self._unresolved(plan, item, waits, correlation_id, stats)
            return
        except _Unresolved as unresolved:
            self._unresolved(plan, item, unresolved, correlation_id, stats)
            return
        except (ValueError, TypeError, KeyError, DomainError) as exc:
            rejected, detail = _rejected(item, "translation failed", exc)
            self._quarantine(plan, rejected, item.fields, correlation_id, stats, detail=detail)
            return
        self._apply(
            plan,
            mapped,
            translation,
            source=source,
            correlation_id=correlation_id,
            version=version,
            digest=digest,
        )
        stats.applied += 1
        stats.events += len(translation.events)
        plan.arrived += [
            record_key(mapped.module, mapped.record_id),
            entity_key(mapped.entity, translation.entity_id),
        ]

    def _unresolved(
        self,
        plan: _Plan,
        item: ZohoRecord,
        unresolved: _Unresolved,
        correlation_id: str,
        stats: IngestStats,
    ) -> None:
        """Quarantined with a value-free reason, and parked on what it waits for."""
        quarantined = Quarantined(
            item.module, item.record_id, item.modified_time, unresolved.reason, unresolved.field
        )
        self._quarantine(
            plan, quarantined, item.fields, correlation_id, stats, detail=unresolved.reason
        )
        if unresolved.waits_for is not None:
            self._park(plan, item, unresolved.waits_for, correlation_id)

    def _park(self, plan: _Plan, item: ZohoRecord, waits_for: str, correlation_id: str) -> None:
        parked = e.ZohoRecordParked(
            waits_for=waits_for,
            module=item.module,
            record_id=item.record_id,
            modified_time=item.modified_time,
        )
        stream = parked.stream_id()
        event_id = zoho_event_id(
            self.tenant_id, item.module, item.record_id, version_key(item.modified_time), stream
        )
        if any(envelope.event_id == event_id for envelope in plan.history(stream)):
            return
        now = self._clock()
        plan.add(
            build_envelope(
                parked,
                metadata=self._metadata("zoho", correlation_id),
                branch_id="*",
                stream_version=plan.stream(stream).next_version,
                occurred_at=item.modified_time,
                recorded_at=now,
                event_id=event_id,
            )
        )

    def _resolved(self, plan: _Plan, mapped: MappedRecord, history: RecordHistory) -> MappedRecord:
        """Lookups replaced by the ids of the entities their records became, and every
        reference to an entity the tenant maps checked to exist: what arrives before
        its parent is quarantined, and taken up again when a later version (or the
        retry of quarantined records) finds the parent."""
        values = dict(mapped.values)
        targets: dict[str, str] = {}
        for name, (module, zoho_id) in mapped.lookups.items():
            found = plan.record(module, zoho_id)
            if found.entity_id is None or found.target_stream is None:
                raise _Unresolved(
                    f"unknown reference: {name} ({module} record not synced)",
                    name,
                    record_key(module, zoho_id),
                )
            values[name] = found.entity_id
            targets[name] = found.target_stream
        canon = CANONICAL[mapped.entity]
        for name, spec in canon.items():
            entity = spec.references
            value = values.get(name)
            if entity is None or value is None or name in targets or entity not in DIRECTORY:
                continue
            if not self.mapping.maps_entity(entity):
                continue  # the tenant keeps no such records in Zoho: taken as given
            if plan.state(e.stream_id(CATEGORY[entity], str(value))) is None:
                raise _Unresolved(
                    f"unknown reference: {name} (no such {entity})",
                    name,
                    entity_key(entity, str(value)),
                )
        own = entity_id_field(mapped.entity)
        became = str(values.get(own))
        if history.entity_id is not None and history.entity_id != became:
            raise _Unresolved(
                f"the record's {own} changed since it was synced: a record cannot become "
                "another entity (create a new record)",
                own,
            )
        return replace(mapped, values=values, targets=targets, lookups={})

    def _localized(self, plan: _Plan, mapped: MappedRecord) -> MappedRecord:
        """The start on the branch's wall clock, as bookings made here have it: the
        calendar's and the warehouse's clinic day is the date of that wall clock. A
        branch not (yet) registered is taken to be in the mapping's time zone."""
        start = mapped.values.get("start_at")
        if not isinstance(start, datetime):
            return mapped
        branch = plan.state(e.stream_id("branch", str(mapped.values.get("branch_id"))))
        zone = branch.zone if isinstance(branch, BranchState) else self.mapping.zone
        return replace(mapped, values={**mapped.values, "start_at": start.astimezone(zone)})

    def _translated(self, plan: _Plan, mapped: MappedRecord) -> Translation:
        """The canonical events of this version, checked against their aggregates (an
        event that cannot follow its state raises, and the version is quarantined)."""
        translation = translate(mapped, plan)
        states: dict[str, State | None] = {}
        for new in translation.events:
            stream = new.payload.stream_id()
            before = states[stream] if stream in states else plan.state(stream)
            states[stream] = evolve(before, new.payload)
        return translation

    def _apply(
        self,
        plan: _Plan,
        mapped: MappedRecord,
        translation: Translation,
        *,
        source: Source,
        correlation_id: str,
        version: str,
        digest: str,
    ) -> None:
        metadata = self._metadata(source, correlation_id)
        now = self._clock()

        def event_id(index: int) -> str:
            return zoho_event_id(
                self.tenant_id, mapped.module, mapped.record_id, version, str(index)
            )

        for index, new in enumerate(translation.events, start=1):
            stream = new.payload.stream_id()
            plan.add(
                build_envelope(
                    new.payload,
                    metadata=metadata,
                    branch_id=new.branch_id or translation.branch_id,
                    stream_version=plan.stream(stream).next_version,
                    occurred_at=new.occurred_at or mapped.modified_time,
                    recorded_at=now,
                    event_id=event_id(index),
                    personal=new.personal,
                    subject_id=new.subject_id,
                )
            )
        synced = e.ZohoRecordSynced(
            module=mapped.module,
            record_id=mapped.record_id,
            modified_time=mapped.modified_time,
            entity=mapped.entity,
            target_stream=translation.target_stream,
            source=source,
            mapping_version=mapped.mapping_version,
            became_id=translation.entity_id,
            content_hash=digest,
        )
        plan.add(
            build_envelope(
                synced,
                metadata=metadata,
                branch_id=translation.branch_id or "*",
                stream_version=plan.stream(synced.stream_id()).next_version,
                occurred_at=mapped.modified_time,
                recorded_at=now,
                event_id=event_id(SYNCED_INDEX),
            )
        )

    def _plan_branches(self, plan: _Plan, correlation_id: str) -> None:
        """Branches named by a picklist (``[branches]`` in the mapping) registered, or
        registered again when their entry changed, before any record needs them."""
        now = self._clock()
        for value, spec in self.mapping.branches.items():
            payload = e.BranchRegistered(
                branch_id=spec.branch_id,
                display_name=spec.display_name or value,
                city=spec.city,
                timezone=spec.timezone,
                currency=spec.currency,
            )
            stream = payload.stream_id()
            state = plan.state(stream)
            if isinstance(state, BranchState) and (
                state.display_name,
                state.city,
                state.timezone,
                state.currency,
            ) == (payload.display_name, payload.city, payload.timezone, payload.currency):
                continue
            digest = content_hash(payload.model_dump(mode="json"))
            plan.add(
                build_envelope(
                    payload,
                    metadata=self._metadata("mapping", correlation_id),
                    branch_id=spec.branch_id,
                    stream_version=plan.stream(stream).next_version,
                    occurred_at=now,
                    recorded_at=now,
                    event_id=zoho_event_id(
                        self.tenant_id, "mapping", "branches", spec.branch_id, digest
                    ),
                )
            )

    def _quarantine(
        self,
        plan: _Plan,
        quarantined: Quarantined,
        raw: dict[str, Any],
        correlation_id: str,
        stats: IngestStats,
        *,
        detail: str | None = None,
    ) -> None:
        """``quarantined.reason`` must name no value (it reaches the warehouse);
        ``detail`` may, and travels with the raw record in the personal part."""
        version = (
            version_key(quarantined.modified_time)
            if quarantined.modified_time is not None
            else raw_version_key(raw)
        )
        mapping_version = self.mapping.version
        event_id = zoho_event_id(
            self.tenant_id,
            quarantined.module,
            quarantined.record_id,
            version,
            quarantine_index(mapping_version),
        )
        history = plan.record(quarantined.module, quarantined.record_id)
        if event_id in history.event_ids:
            stats.duplicates += 1  # this version was quarantined already, under this mapping
            return
        stats.quarantined += 1
        payload = e.RecordQuarantined(
            module=quarantined.module,
            record_id=quarantined.record_id,
            modified_time=quarantined.modified_time,
            reason=quarantined.reason[:MAX_REASON] or "quarantined",
            field=quarantined.field[:200] if quarantined.field else None,
            mapping_version=mapping_version,
        )
        now = self._clock()
        stream = payload.stream_id()
        plan.add(
            build_envelope(
                payload,
                metadata=self._metadata("zoho", correlation_id),
                branch_id="*",
                stream_version=plan.stream(stream).next_version,
                occurred_at=quarantined.modified_time or now,
                recorded_at=now,
                event_id=event_id,
                personal=e.RawRecordPersonalData(
                    fields=_jsonable(raw), detail=detail[:2000] if detail else None
                ),
                subject_id=stream,
            )
        )

    def _metadata(self, source: str, correlation_id: str) -> Metadata:
        return Metadata(
            tenant_id=self.tenant_id,
            actor=ACTOR,
            source=f"zoho:{source}" if source != "zoho" else "zoho",
            correlation_id=correlation_id,
        )


class _Unresolved(Exception):
    """A reference this version makes that the platform does not know (yet): the
    version is parked on ``waits_for`` when a later record may supply it."""

    def __init__(self, reason: str, field: str, waits_for: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.waits_for = waits_for


def _parked_record(history: Sequence[EventEnvelope], parked: e.ZohoRecordParked) -> Item | None:
    """The parked version as it arrived, unless it (or a newer one) was synced since."""
    synced = record_history(history).synced_through
    if synced is not None and synced >= parked.modified_time:
        return None
    for envelope in reversed(history):
        data = envelope.data()
        if (
            isinstance(data, e.RecordQuarantined)
            and data.modified_time == parked.modified_time
            and envelope.personal is not None
        ):
            fields = dict(envelope.personal.get("fields") or {})
            return ZohoRecord(parked.module, parked.record_id, parked.modified_time, fields)
    return None


def record_key(module: str, record_id: str) -> str:
    """What a record parked on a lookup waits for: that Zoho record."""
    return f"record:{module}:{record_id}"


def entity_key(entity: str, entity_id: str) -> str:
    """What a record parked on a reference waits for: any record becoming that entity."""
    return f"{entity}:{entity_id}"


def _rejected(record: ZohoRecord, what: str, exc: Exception) -> tuple[Quarantined, str]:
    reason, field_name = describe_error(exc)
    quarantined = Quarantined(
        record.module, record.record_id, record.modified_time, f"{what}: {reason}", field_name
    )
    return quarantined, f"{what}: {type(exc).__name__}: {exc}"


def _value_free(mapping: TenantMapping, record: ZohoRecord, mapped: Quarantined) -> Quarantined:
    """The mapping's verdict without the value it may quote: the kind of problem, the
    canonical field and the Zoho field that feeds it."""
    outcome = map_fields(mapping, record.module, record.record_id, record.fields)
    if not isinstance(outcome, Reject):  # pragma: no cover - map_record said otherwise
        return replace(mapped, reason="rejected by the mapping")
    reason: str = outcome.kind
    if outcome.kind == "unknown module":
        reason = f"unknown module (not in mapping version {mapping.version})"
    elif outcome.field is not None:
        spec = mapping.modules.get(record.module)
        source = spec.source_of(outcome.field) if spec is not None else None
        reason += f": {outcome.field}" + (f" (Zoho field {source})" if source else "")
    return replace(mapped, reason=reason, field=outcome.field)


def describe_error(exc: Exception) -> tuple[str, str | None]:
    """A reason that names the problem but never the value (raw values may be health
    data): pydantic errors without their input, domain errors by their message, anything
    else by its type."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        first = errors[0] if errors else None
        where = ".".join(str(part) for part in first["loc"]) if first else None
        text = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(record)'}: {err['msg']}" for err in errors
        )
        return text or "invalid", where or None
    if isinstance(exc, DomainError):
        return exc.message, exc.field
    return type(exc).__name__, None


def _jsonable(raw: dict[str, Any]) -> dict[str, Any]:
    """The raw record as JSON values (REST gives JSON already; be safe with others)."""
    return dict(orjson.loads(orjson.dumps(raw, default=str)))


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
