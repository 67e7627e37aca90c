"""Read-model documents as JSON in one SQLite table, with projection checkpoints."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson

from mymedic.adapters.document_cache import DocKey, DocumentCache
from mymedic.adapters.local.sqlite import connect, write_transaction
from mymedic.ports import Document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (collection, tenant_id, doc_id)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    projection TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (projection, tenant_id, stream_id)
);
"""

T = TypeVar("T")

_FIELD_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class SqliteUnitOfWork(DocumentCache):
    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self._conn = conn
        self._checkpoints: dict[tuple[str, str, str], int] = {}
        self._changed_checkpoints: dict[tuple[str, str, str], int] = {}

    def checkpoint(self, projection: str, tenant_id: str, stream_id: str) -> int:
        key = (projection, tenant_id, stream_id)
        if key not in self._checkpoints:
            row = self._conn.execute(
                "SELECT version FROM checkpoints WHERE projection = ? AND tenant_id = ?"
                " AND stream_id = ?",
                key,
            ).fetchone()
            self._checkpoints[key] = int(row[0]) if row else 0
        return self._checkpoints[key]

    def set_checkpoint(self, projection: str, tenant_id: str, stream_id: str, version: int) -> None:
        self._checkpoints[(projection, tenant_id, stream_id)] = version
        self._changed_checkpoints[(projection, tenant_id, stream_id)] = version

    def prefetch_checkpoints(self, projection: str, streams: Iterable[tuple[str, str]]) -> None:
        """Lookups by primary key are cheap in SQLite: each is loaded when first asked."""

    def _load(self, keys: Iterable[DocKey]) -> None:
        # Lookups by primary key are cheap in SQLite: one at a time.
        for key in keys:
            row = self._conn.execute(
                "SELECT body FROM documents WHERE collection = ? AND tenant_id = ? AND doc_id = ?",
                key,
            ).fetchone()
            self._docs[key] = orjson.loads(row[0]) if row else None

    def flush(self) -> None:
        """Write each changed document once, however often the batch changed it."""
        upserts = [
            (*k, orjson.dumps(self._docs[k])) for k in self._dirty if self._docs[k] is not None
        ]
        deletes = [k for k in self._dirty if self._docs[k] is None]
        self._conn.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET body = excluded.body",
            upserts,
        )
        self._conn.executemany(
            "DELETE FROM documents WHERE collection = ? AND tenant_id = ? AND doc_id = ?",
            deletes,
        )
        self._dirty.clear()
        checkpoints = [(*key, version) for key, version in self._changed_checkpoints.items()]
        self._conn.executemany(
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE"
            " SET version = excluded.version",
            checkpoints,
        )
        self._changed_checkpoints.clear()


class SqliteDocumentStore:
    def __init__(self, path: Path | str, synchronous: Literal["FULL", "NORMAL"] = "FULL"):
        self._conn = connect(path, synchronous)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.executescript(_SCHEMA)

    def transact(self, work: Callable[[SqliteUnitOfWork], T]) -> T:
        with self._lock, write_transaction(self._conn) as conn:
            uow = SqliteUnitOfWork(conn)
            result = work(uow)
            uow.flush()
            return result

    def get(self, collection: str, tenant_id: str, doc_id: str) -> Document | None:
        with self._lock:
            return SqliteUnitOfWork(self._conn).get(collection, tenant_id, doc_id)

    def query(
        self, collection: str, tenant_id: str, where: dict[str, Any] | None = None
    ) -> list[Document]:
        sql = "SELECT body FROM documents WHERE collection = ? AND tenant_id = ?"
        params: list[Any] = [collection, tenant_id]
        for name, value in (where or {}).items():
            if not name or not set(name) <= _FIELD_NAME_CHARS:
                raise ValueError(f"cannot filter on field {name!r}")
            sql += f" AND json_extract(body, '$.{name}') = ?"
            params.append(value)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY doc_id", params).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def reset_projection(self, projection: str, collections: Iterable[str]) -> None:
        with self._lock, write_transaction(self._conn) as conn:
            conn.execute("DELETE FROM checkpoints WHERE projection = ?", (projection,))
            conn.executemany(
                "DELETE FROM documents WHERE collection = ?", [(c,) for c in collections]
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
