"""The event store on one SQLite file (WAL): events, their outbox and dead letters."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from mymedic.adapters.local.sqlite import connect, write_transaction
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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    global_position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (tenant_id, stream_id, stream_version)
);
CREATE TABLE IF NOT EXISTS outbox (
    global_position INTEGER PRIMARY KEY REFERENCES events (global_position),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS dead_letters (
    global_position INTEGER PRIMARY KEY REFERENCES events (global_position),
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    dead_lettered_at TEXT NOT NULL
);
"""


class SqliteEventStore(AppendsOneStream):
    def __init__(self, path: Path | str, synchronous: Literal["FULL", "NORMAL"] = "FULL"):
        self._conn = connect(path, synchronous)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.executescript(_SCHEMA)

    def append_streams(self, tenant_id: str, appends: Sequence[StreamAppend]) -> list[AppendResult]:
        check_appends(tenant_id, appends)
        rows = [
            (
                event.event_id,
                tenant_id,
                append.stream_id,
                event.stream_version,
                event.event_type,
                event.model_dump_json().encode(),
            )
            for append in appends
            for event in append.events
        ]
        ids = [tuple(event.event_id for event in append.events) for append in appends]
        with self._lock, write_transaction(self._conn) as conn:
            moved = [
                (append, actual)
                for append in appends
                if (actual := self._version(conn, tenant_id, append.stream_id))
                != append.expected_version
            ]
            if moved:
                # A retry of an append that went through finds its streams moved on.
                stored = [
                    self._already_stored(conn, tenant_id, append.stream_id, event_ids)
                    for append, event_ids in zip(appends, ids, strict=True)
                ]
                if all(version is not None for version in stored):
                    return [
                        AppendResult(append.stream_id, int(version or 0), event_ids, duplicate=True)
                        for append, event_ids, version in zip(appends, ids, stored, strict=True)
                    ]
                append, actual = moved[0]
                raise ConcurrencyConflict(
                    tenant_id, append.stream_id, append.expected_version, actual
                )
            positions = []
            for row in rows:
                try:
                    cursor = conn.execute(
                        "INSERT INTO events (event_id, tenant_id, stream_id, stream_version,"
                        " event_type, body) VALUES (?, ?, ?, ?, ?, ?)",
                        row,
                    )
                except sqlite3.IntegrityError as exc:
                    # Versions were checked under the write lock: only the event id can
                    # clash, with an event of another stream.
                    raise EventIdReused(f"event id {row[0]} is already stored") from exc
                positions.append((cursor.lastrowid,))
            conn.executemany("INSERT INTO outbox (global_position) VALUES (?)", positions)
        return [
            AppendResult(
                append.stream_id,
                append.expected_version + len(append.events),
                event_ids,
                duplicate=False,
            )
            for append, event_ids in zip(appends, ids, strict=True)
        ]

    @staticmethod
    def _already_stored(
        conn: sqlite3.Connection, tenant_id: str, stream_id: str, event_ids: tuple[str, ...]
    ) -> int | None:
        """The stream version after these events if all are stored already (a retry)."""
        marks = ",".join("?" * len(event_ids))
        rows = conn.execute(
            f"SELECT tenant_id, stream_id, stream_version FROM events WHERE event_id IN ({marks})",
            event_ids,
        ).fetchall()
        if not rows:
            return None
        if len(rows) != len(event_ids) or any(
            (row[0], row[1]) != (tenant_id, stream_id) for row in rows
        ):
            raise EventIdReused(
                f"event ids {sorted(event_ids)} are partly stored or belong to another stream"
            )
        return max(int(row[2]) for row in rows)

    @staticmethod
    def _version(conn: sqlite3.Connection, tenant_id: str, stream_id: str) -> int:
        row = conn.execute(
            "SELECT max(stream_version) FROM events WHERE tenant_id = ? AND stream_id = ?",
            (tenant_id, stream_id),
        ).fetchone()
        return int(row[0] or 0)

    def stream_version(self, tenant_id: str, stream_id: str) -> int:
        with self._lock:
            return self._version(self._conn, tenant_id, stream_id)

    def read_stream(
        self,
        tenant_id: str,
        stream_id: str,
        after_version: int = 0,
        up_to_version: int | None = None,
    ) -> list[EventEnvelope]:
        upper = up_to_version if up_to_version is not None else 2**62
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM events WHERE tenant_id = ? AND stream_id = ?"
                " AND stream_version > ? AND stream_version <= ? ORDER BY stream_version",
                (tenant_id, stream_id, after_version, upper),
            ).fetchall()
        return [EventEnvelope.model_validate_json(row[0]) for row in rows]

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT global_position, body FROM events WHERE global_position > ?"
                " ORDER BY global_position LIMIT ?",
                (after_position, limit),
            ).fetchall()
        return [StoredEvent(row[0], EventEnvelope.model_validate_json(row[1])) for row in rows]

    def head_position(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT max(global_position) FROM events").fetchone()
        return int(row[0] or 0)

    def pending_outbox(self, after_position: int = 0, limit: int = 500) -> list[StoredEvent]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT e.global_position, e.body FROM outbox o JOIN events e"
                " USING (global_position) WHERE o.global_position > ?"
                " ORDER BY o.global_position LIMIT ?",
                (after_position, limit),
            ).fetchall()
        return [StoredEvent(row[0], EventEnvelope.model_validate_json(row[1])) for row in rows]

    def mark_published(self, positions: Sequence[int]) -> None:
        if not positions:
            return
        with self._lock, write_transaction(self._conn) as conn:
            conn.executemany(
                "DELETE FROM outbox WHERE global_position = ?", [(p,) for p in positions]
            )

    def record_delivery_failure(self, position: int, reason: str, max_attempts: int) -> bool:
        with self._lock, write_transaction(self._conn) as conn:
            row = conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?"
                " WHERE global_position = ? RETURNING attempts",
                (reason[:4000], position),
            ).fetchone()
            if row is None or int(row[0]) < max_attempts:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?, ?)",
                (position, int(row[0]), reason[:4000], datetime.now(UTC).isoformat()),
            )
            conn.execute("DELETE FROM outbox WHERE global_position = ?", (position,))
            return True

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT d.global_position, e.event_id, d.attempts, d.reason FROM dead_letters d"
                " JOIN events e USING (global_position) ORDER BY d.global_position"
            ).fetchall()
        return [DeadLetter(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]

    def requeue_dead_letters(self, positions: Sequence[int] | None = None) -> int:
        with self._lock, write_transaction(self._conn) as conn:
            chosen = (
                [int(r[0]) for r in conn.execute("SELECT global_position FROM dead_letters")]
                if positions is None
                else list(positions)
            )
            moved = 0
            for position in chosen:
                if conn.execute(
                    "DELETE FROM dead_letters WHERE global_position = ? RETURNING 1",
                    (position,),
                ).fetchone():
                    conn.execute(
                        "INSERT OR IGNORE INTO outbox (global_position) VALUES (?)", (position,)
                    )
                    moved += 1
            return moved

    def close(self) -> None:
        with self._lock:
            self._conn.close()
