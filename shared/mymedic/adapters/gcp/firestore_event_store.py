"""The event store on Firestore.

Layout (every key under the tenant except the global log):
- ``tenants/{t}/streams/{stream}``: the stream's current version.
- ``tenants/{t}/event_ids/{event_id}``: which stream and version an id went to, so that
  a retried append is recognised.
- ``event_log/{position:020d}``: the event itself, keyed by its global position, with
  tenant, stream and version as fields (a composite index on tenant_id, stream_id,
  stream_version serves stream reads).
- ``sequence/global``: the last global position handed out.
- ``outbox/{position:020d}`` and ``dead_letters/{position:020d}``.

One Firestore transaction per append reads the stream, the event ids and the sequence,
and writes everything, so an append is all or nothing and positions are gapless and
strictly ordered even under concurrent appends.

The trade-off: every append writes ``sequence/global``, and Firestore sustains about one
write per second per document (bursts go higher, contention makes transactions retry).
That suits a clinic chain's command rate (tens of thousands a day, a few per second at
peak); a busier deployment shards the sequence per tenant (``tenants/{t}/sequence``) and
reads the log per tenant, which keeps a total order inside each tenant, all that
projections need.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from mymedic.adapters.gcp.errors import call, run_transaction, short_retry
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import (
    AppendResult,
    AppendsOneStream,
    ConcurrencyConflict,
    DeadLetter,
    EventIdReused,
    StoredEvent,
    StreamAppend,
    check_appends,
)

LOG = "event_log"
OUTBOX = "outbox"
DEAD = "dead_letters"


def position_id(position: int) -> str:
    return f"{position:020d}"


class FirestoreEventStore(AppendsOneStream):
    def __init__(self, client: firestore.Client, timeout: float = 10.0) -> None:
        self._db = client
        self._timeout = timeout
        self._retry = short_retry(timeout)
        self._sequence = client.collection("sequence").document("global")

    def _tenant(self, tenant_id: str) -> Any:
        return self._db.collection("tenants").document(tenant_id)

    def append_streams(self, tenant_id: str, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        check_appends(tenant_id, appends)
        tenant = self._tenant(tenant_id)
        stream_refs = [tenant.collection("streams").document(a.stream_id) for a in appends]
        events = [(a, e) for a in appends for e in a.events]
        id_refs = [tenant.collection("event_ids").document(e.event_id) for _, e in events]
        bodies = [e.model_dump_json() for _, e in events]
        ids = [tuple(e.event_id for e in a.events) for a in appends]

        def run(transaction: firestore.Transaction) -> list[AppendResult]:
            seen = {
                snap.id: snap
                for snap in transaction.get_all(id_refs, timeout=self._timeout)
                if snap.exists
            }
            if seen:
                return self._retried(appends, ids, seen)
            streams = {
                snap.reference.path: snap
                for snap in transaction.get_all(stream_refs, timeout=self._timeout)
            }
            for append, ref in zip(appends, stream_refs, strict=True):
                snap = streams.get(ref.path)
                actual = int(snap.get("version")) if snap is not None and snap.exists else 0
                if actual != append.expected_version:
                    raise ConcurrencyConflict(
                        tenant_id, append.stream_id, append.expected_version, actual
                    )
            sequence = self._sequence.get(transaction=transaction, timeout=self._timeout)
            position = int(sequence.get("position")) if sequence.exists else 0
            now = datetime.now(UTC)
            for (append, event), body, id_ref in zip(events, bodies, id_refs, strict=True):
                position += 1
                key = position_id(position)
                transaction.set(
                    self._db.collection(LOG).document(key),
                    {
                        "global_position": position,
                        "tenant_id": tenant_id,
                        "stream_id": append.stream_id,
                        "stream_version": event.stream_version,
                        "event_type": event.event_type,
                        "body": body,
                    },
                )
                transaction.set(
                    id_ref, {"stream_id": append.stream_id, "stream_version": event.stream_version}
                )
                transaction.set(
                    self._db.collection(OUTBOX).document(key),
                    {"global_position": position, "attempts": 0, "appended_at": now},
                )
            transaction.set(self._sequence, {"position": position})
            results = []
            for append, ref, event_ids in zip(appends, stream_refs, ids, strict=True):
                version = append.expected_version + len(append.events)
                transaction.set(
                    ref, {"tenant_id": tenant_id, "stream_id": append.stream_id, "version": version}
                )
                results.append(AppendResult(append.stream_id, version, event_ids, duplicate=False))
            return results

        return run_transaction(self._db, "firestore append", run)

    @staticmethod
    def _retried(
        appends: Sequence[StreamAppend], ids: list[tuple[str, ...]], seen: dict[str, Any]
    ) -> list[AppendResult]:
        """A retry of an append that went through: every event id is stored, each in
        the stream it was meant for. Anything less is a reused id."""
        results = []
        for append, event_ids in zip(appends, ids, strict=True):
            found = [seen.get(event_id) for event_id in event_ids]
            if any(snap is None or snap.get("stream_id") != append.stream_id for snap in found):
                raise EventIdReused(f"event ids {sorted(seen)} are partly stored elsewhere")
            version = max(int(snap.get("stream_version")) for snap in found if snap is not None)
            results.append(AppendResult(append.stream_id, version, event_ids, duplicate=True))
        return results

    def stream_version(self, tenant_id: str, stream_id: str) -> int:
        ref = self._tenant(tenant_id).collection("streams").document(stream_id)
        snap = call("firestore read", lambda: ref.get(timeout=self._timeout, retry=self._retry))
        return int(snap.get("version")) if snap.exists else 0

    def read_stream(
        self,
        tenant_id: str,
        stream_id: str,
        after_version: int = 0,
        up_to_version: int | None = None,
    ) -> list[EventEnvelope]:
        query = (
            self._db.collection(LOG)
            .where(filter=FieldFilter("tenant_id", "==", tenant_id))
            .where(filter=FieldFilter("stream_id", "==", stream_id))
            .where(filter=FieldFilter("stream_version", ">", after_version))
        )
        if up_to_version is not None:
            query = query.where(filter=FieldFilter("stream_version", "<=", up_to_version))
        query = query.order_by("stream_version")
        snaps = call(
            "firestore read", lambda: list(query.stream(timeout=self._timeout, retry=self._retry))
        )
        return [EventEnvelope.model_validate_json(s.get("body")) for s in snaps]

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        query = (
            self._db.collection(LOG)
            .where(filter=FieldFilter("global_position", ">", after_position))
            .order_by("global_position")
            .limit(limit)
        )
        snaps = call(
            "firestore read", lambda: list(query.stream(timeout=self._timeout, retry=self._retry))
        )
        return [
            StoredEvent(
                int(s.get("global_position")), EventEnvelope.model_validate_json(s.get("body"))
            )
            for s in snaps
        ]

    def head_position(self) -> int:
        snap = call(
            "firestore read", lambda: self._sequence.get(timeout=self._timeout, retry=self._retry)
        )
        return int(snap.get("position")) if snap.exists else 0

    def pending_outbox(self, after_position: int = 0, limit: int = 500) -> list[StoredEvent]:
        query = (
            self._db.collection(OUTBOX)
            .where(filter=FieldFilter("global_position", ">", after_position))
            .order_by("global_position")
            .limit(limit)
        )
        pending = call(
            "firestore read", lambda: list(query.stream(timeout=self._timeout, retry=self._retry))
        )
        refs = [self._db.collection(LOG).document(p.id) for p in pending]
        logged = call(
            "firestore read",
            lambda: list(self._db.get_all(refs, timeout=self._timeout, retry=self._retry)),
        )
        by_id = {snap.id: snap for snap in logged if snap.exists}
        return [
            StoredEvent(
                int(by_id[p.id].get("global_position")),
                EventEnvelope.model_validate_json(by_id[p.id].get("body")),
            )
            for p in pending
            if p.id in by_id
        ]

    def mark_published(self, positions: Sequence[int]) -> None:
        for start in range(0, len(positions), 400):
            batch = self._db.batch()
            for position in positions[start : start + 400]:
                batch.delete(self._db.collection(OUTBOX).document(position_id(position)))
            self._commit(batch)

    def record_delivery_failure(self, position: int, reason: str, max_attempts: int) -> bool:
        outbox_ref = self._db.collection(OUTBOX).document(position_id(position))
        dead_ref = self._db.collection(DEAD).document(position_id(position))
        log_ref = self._db.collection(LOG).document(position_id(position))

        def run(transaction: firestore.Transaction) -> bool:
            snap = outbox_ref.get(transaction=transaction, timeout=self._timeout)
            logged = log_ref.get(transaction=transaction, timeout=self._timeout)
            if not snap.exists:
                return False
            attempts = int(snap.get("attempts")) + 1
            if attempts < max_attempts:
                transaction.update(outbox_ref, {"attempts": attempts, "last_error": reason[:4000]})
                return False
            body = EventEnvelope.model_validate_json(logged.get("body"))
            transaction.set(
                dead_ref,
                {
                    "global_position": position,
                    "event_id": body.event_id,
                    "attempts": attempts,
                    "reason": reason[:4000],
                    "dead_lettered_at": datetime.now(UTC),
                },
            )
            transaction.delete(outbox_ref)
            return True

        return run_transaction(self._db, "firestore write", run)

    def dead_letters(self) -> list[DeadLetter]:
        query = self._db.collection(DEAD).order_by("global_position")
        snaps = call(
            "firestore read", lambda: list(query.stream(timeout=self._timeout, retry=self._retry))
        )
        return [
            DeadLetter(
                int(s.get("global_position")),
                str(s.get("event_id")),
                int(s.get("attempts")),
                str(s.get("reason")),
            )
            for s in snaps
        ]

    def requeue_dead_letters(self, positions: Sequence[int] | None = None) -> int:
        chosen = (
            [d.global_position for d in self.dead_letters()]
            if positions is None
            else list(positions)
        )
        return sum(1 for position in chosen if self._requeue(position))

    def _requeue(self, position: int) -> bool:
        dead_ref = self._db.collection(DEAD).document(position_id(position))
        outbox_ref = self._db.collection(OUTBOX).document(position_id(position))

        def run(transaction: firestore.Transaction) -> bool:
            snap = dead_ref.get(transaction=transaction, timeout=self._timeout)
            if not snap.exists:
                return False
            transaction.delete(dead_ref)
            transaction.set(
                outbox_ref,
                {"global_position": position, "attempts": 0, "appended_at": datetime.now(UTC)},
            )
            return True

        return run_transaction(self._db, "firestore write", run)

    def _commit(self, batch: Any) -> None:
        call("firestore write", lambda: batch.commit(timeout=self._timeout, retry=self._retry))

    def close(self) -> None:
        self._db.close()  # type: ignore[no-untyped-call]
