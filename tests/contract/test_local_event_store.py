from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mymedic.adapters.local.event_store import SqliteEventStore
from mymedic.ports import EventStore
from tests.contract.event_store_contract import EventStoreContract
from tests.contract.events import appointment_events


class TestSqliteEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[EventStore]:
        instance = SqliteEventStore(tmp_path / "events.sqlite")
        yield instance
        instance.close()


def test_events_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    store = SqliteEventStore(path)
    events = appointment_events()
    store.append("t1", "appointment:a1", 0, events)
    store.close()
    reopened = SqliteEventStore(path)
    assert reopened.read_stream("t1", "appointment:a1") == events
    assert len(reopened.pending_outbox()) == 3
    reopened.close()


def test_the_file_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    import sqlite3

    SqliteEventStore(tmp_path / "events.sqlite").close()
    conn = sqlite3.connect(tmp_path / "events.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
