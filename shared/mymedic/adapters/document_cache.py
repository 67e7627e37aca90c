"""The part both document units of work share: documents read once, changed in memory,
and written back once at commit by the adapter (``_dirty`` names what changed; a
``None`` document is a deletion)."""

from __future__ import annotations

from collections.abc import Iterable

from mymedic.ports import Document

DocKey = tuple[str, str, str]  # collection, tenant, document id


class DocumentCache:
    def __init__(self) -> None:
        self._docs: dict[DocKey, Document | None] = {}
        self._dirty: set[DocKey] = set()

    def _load(self, keys: Iterable[DocKey]) -> None:
        """Fill ``self._docs`` for these keys (``None`` where no document exists)."""
        raise NotImplementedError

    def get(self, collection: str, tenant_id: str, doc_id: str) -> Document | None:
        key = (collection, tenant_id, doc_id)
        if key not in self._docs:
            self._load([key])
        return self._docs[key]

    def put(self, collection: str, tenant_id: str, doc_id: str, doc: Document) -> None:
        key = (collection, tenant_id, doc_id)
        self._docs[key] = doc
        self._dirty.add(key)

    def delete(self, collection: str, tenant_id: str, doc_id: str) -> None:
        key = (collection, tenant_id, doc_id)
        self._docs[key] = None
        self._dirty.add(key)
