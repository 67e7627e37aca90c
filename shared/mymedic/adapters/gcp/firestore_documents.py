"""Read-model documents on Firestore: ``tenants/{t}/{collection}/{doc_id}``, with each
projection's checkpoints in ``tenants/{t}/projection_checkpoints`` written in the same
transaction as the documents they guard."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from mymedic.adapters.document_cache import DocumentCache
from mymedic.adapters.gcp.errors import call, run_transaction, short_retry
from mymedic.ports import Document

T = TypeVar("T")
CHECKPOINTS = "projection_checkpoints"
_FIELD_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
Key = tuple[str, str, str]


def _checkpoint_id(projection: str, stream_id: str) -> str:
    return f"{projection}~{stream_id}"


class FirestoreUnitOfWork(DocumentCache):
    """Reads go through the transaction (and are locked by it); writes are buffered and
    applied at the end, because Firestore wants every read before the first write."""

    def __init__(self, db: firestore.Client, transaction: firestore.Transaction, timeout: float):
        super().__init__()
        self._db = db
        self._transaction = transaction
        self._timeout = timeout

    def _ref(self, key: Key) -> Any:
        collection, tenant_id, doc_id = key
        return (
            self._db.collection("tenants")
            .document(tenant_id)
            .collection(collection)
            .document(doc_id)
        )

    def _load(self, keys: Iterable[Key]) -> None:
        wanted = [k for k in dict.fromkeys(keys) if k not in self._docs]
        if not wanted:
            return
        refs = {self._ref(k).path: k for k in wanted}
        for snap in self._transaction.get_all(
            [self._ref(k) for k in wanted], timeout=self._timeout
        ):
            self._docs[refs[snap.reference.path]] = snap.to_dict() if snap.exists else None
        for key in wanted:
            self._docs.setdefault(key, None)

    def checkpoint(self, projection: str, tenant_id: str, stream_id: str) -> int:
        doc = self.get(CHECKPOINTS, tenant_id, _checkpoint_id(projection, stream_id))
        return int(doc["version"]) if doc else 0

    def set_checkpoint(self, projection: str, tenant_id: str, stream_id: str, version: int) -> None:
        self.put(
            CHECKPOINTS,
            tenant_id,
            _checkpoint_id(projection, stream_id),
            {
                "projection": projection,
                "tenant_id": tenant_id,
                "stream_id": stream_id,
                "version": version,
            },
        )

    def prefetch_checkpoints(self, projection: str, streams: Iterable[tuple[str, str]]) -> None:
        self._load((CHECKPOINTS, t, _checkpoint_id(projection, s)) for t, s in streams)

    def flush(self) -> None:
        for key in self._dirty:
            doc = self._docs[key]
            if doc is None:
                self._transaction.delete(self._ref(key))
            else:
                self._transaction.set(self._ref(key), doc)
        self._dirty.clear()


class FirestoreDocumentStore:
    def __init__(self, client: firestore.Client, timeout: float = 10.0) -> None:
        self._db = client
        self._timeout = timeout
        self._retry = short_retry(timeout)

    def transact(self, work: Callable[[FirestoreUnitOfWork], T]) -> T:
        def run(transaction: firestore.Transaction) -> T:
            uow = FirestoreUnitOfWork(self._db, transaction, self._timeout)
            result = work(uow)
            uow.flush()
            return result

        return run_transaction(self._db, "firestore transaction", run)

    def get(self, collection: str, tenant_id: str, doc_id: str) -> Document | None:
        ref = (
            self._db.collection("tenants")
            .document(tenant_id)
            .collection(collection)
            .document(doc_id)
        )
        snap = call("firestore read", lambda: ref.get(timeout=self._timeout, retry=self._retry))
        return snap.to_dict() if snap.exists else None

    def query(
        self, collection: str, tenant_id: str, where: dict[str, Any] | None = None
    ) -> list[Document]:
        query: Any = self._db.collection("tenants").document(tenant_id).collection(collection)
        for name, value in (where or {}).items():
            if not name or not set(name) <= _FIELD_NAME_CHARS:
                raise ValueError(f"cannot filter on field {name!r}")
            query = query.where(filter=FieldFilter(name, "==", value))
        snaps = call(
            "firestore read", lambda: list(query.stream(timeout=self._timeout, retry=self._retry))
        )
        return [s.to_dict() for s in sorted(snaps, key=lambda s: s.id)]

    def reset_projection(self, projection: str, collections: Iterable[str]) -> None:
        doomed: list[Any] = []
        for collection in collections:
            doomed += [
                s.reference
                for s in self._db.collection_group(collection).stream(timeout=self._timeout)
            ]
        checkpoints = self._db.collection_group(CHECKPOINTS).where(
            filter=FieldFilter("projection", "==", projection)
        )
        doomed += [s.reference for s in checkpoints.stream(timeout=self._timeout)]
        for start in range(0, len(doomed), 400):
            batch = self._db.batch()
            for ref in doomed[start : start + 400]:
                batch.delete(ref)
            self._commit(batch)

    def _commit(self, batch: Any) -> None:
        call("firestore write", lambda: batch.commit(timeout=self._timeout, retry=self._retry))

    def close(self) -> None:
        self._db.close()  # type: ignore[no-untyped-call]
