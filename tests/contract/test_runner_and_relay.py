"""Projection runner and outbox relay over the real local adapters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mymedic.adapters.local.bus import InProcessBus
from mymedic.adapters.local.documents import SqliteDocumentStore
from mymedic.adapters.local.event_store import SqliteEventStore
from mymedic.app.calendar import CALENDAR, CalendarProjection, calendar_day
from mymedic.app.outbox import OutboxRelay
from mymedic.app.projections import ProjectionRunner, StreamGap
from mymedic.domain.envelope import EventEnvelope
from tests.contract.events import appointment_events


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEventStore]:
    instance = SqliteEventStore(tmp_path / "events.sqlite")
    yield instance
    instance.close()


@pytest.fixture
def documents(tmp_path: Path) -> Iterator[SqliteDocumentStore]:
    instance = SqliteDocumentStore(tmp_path / "read_models.sqlite")
    yield instance
    instance.close()


def _calendar(documents: SqliteDocumentStore) -> list[dict[str, object]]:
    return documents.query(CALENDAR, "t1")


def test_redelivered_events_change_nothing(
    store: SqliteEventStore, documents: SqliteDocumentStore
) -> None:
    events = appointment_events()
    store.append("t1", "appointment:a1", 0, events)
    runner = ProjectionRunner(CalendarProjection(), documents, store)
    for event in events:
        runner(event)
    once = _calendar(documents)
    for event in events:
        runner(event)
    assert _calendar(documents) == once
    assert (runner.stats.applied, runner.stats.skipped) == (3, 3)
    [entry] = once
    assert entry["date"] == "2026-02-11"
    assert calendar_day(documents, "t1", "b1", "2026-02-11")["counts"] == {"completed": 1}


def test_a_gap_is_filled_from_the_store_before_applying(
    store: SqliteEventStore, documents: SqliteDocumentStore
) -> None:
    events = appointment_events()
    store.append("t1", "appointment:a1", 0, events)
    runner = ProjectionRunner(CalendarProjection(), documents, store)
    runner(events[2])
    assert runner.stats.caught_up == 2
    runner(events[0])
    runner(events[1])
    assert runner.stats.skipped == 2
    [entry] = _calendar(documents)
    assert (entry["status"], entry["clinician_id"]) == ("completed", "c2")


def test_a_gap_the_store_cannot_fill_is_an_error_and_writes_nothing(
    store: SqliteEventStore, documents: SqliteDocumentStore
) -> None:
    events = appointment_events()
    store.append("t1", "appointment:a1", 0, events[:1])
    runner = ProjectionRunner(CalendarProjection(), documents, store)
    with pytest.raises(StreamGap):
        runner(events[2])
    assert _calendar(documents) == []


def test_failed_delivery_stays_in_the_outbox_then_dead_letters_and_replays(
    store: SqliteEventStore, documents: SqliteDocumentStore
) -> None:
    runner = ProjectionRunner(CalendarProjection(), documents, store)
    broken = {"on": True}

    def flaky(event: EventEnvelope) -> None:
        if broken["on"] and event.stream_version == 2:
            raise ConnectionError("read model unreachable")
        runner(event)

    bus = InProcessBus()
    bus.subscribe("calendar", flaky)
    relay = OutboxRelay(store, bus, max_attempts=2)
    store.append("t1", "appointment:a1", 0, appointment_events())

    first = relay.drain()
    # The completion is still applied in order: the runner fills the gap left by the
    # failed reschedule from the store. The reschedule's own delivery stays owed.
    assert (first.published, first.failed, first.dead_lettered) == (2, 1, 0)
    assert [p.envelope.stream_version for p in store.pending_outbox()] == [2]

    second = relay.drain()
    assert (second.published, second.failed, second.dead_lettered) == (0, 1, 1)
    [dead] = store.dead_letters()
    assert "ConnectionError: read model unreachable" in dead.reason
    assert store.pending_outbox() == []

    broken["on"] = False
    assert store.requeue_dead_letters() == 1
    third = relay.drain()
    assert (third.published, third.failed) == (1, 0)
    assert store.dead_letters() == []
    [entry] = _calendar(documents)
    assert entry["status"] == "completed"
