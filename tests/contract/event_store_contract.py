"""The event store contract, written once; each backend subclasses it with a fixture."""

from __future__ import annotations

import threading

import pytest

from mymedic.ports import (
    ConcurrencyConflict,
    EventIdReused,
    EventStore,
    StreamAppend,
    TransientBackendError,
)
from tests.contract.events import appointment_events


class EventStoreContract:
    concurrent_writers = 4

    @pytest.fixture
    def store(self) -> EventStore:
        raise NotImplementedError

    def test_append_and_read_a_stream(self, store: EventStore) -> None:
        events = appointment_events()
        result = store.append("t1", "appointment:a1", 0, events)
        assert (result.stream_version, result.duplicate) == (3, False)
        assert result.event_ids == tuple(e.event_id for e in events)
        assert store.read_stream("t1", "appointment:a1") == events
        assert store.read_stream("t1", "appointment:a1", after_version=1, up_to_version=2) == [
            events[1]
        ]
        assert store.stream_version("t1", "appointment:a1") == 3
        assert store.stream_version("t1", "appointment:none") == 0

    def test_wrong_expected_version_conflicts_and_writes_nothing(self, store: EventStore) -> None:
        first, _, third = appointment_events()
        store.append("t1", "appointment:a1", 0, [first])
        with pytest.raises(ConcurrencyConflict) as raised:
            store.append("t1", "appointment:a1", 0, [first.model_copy(update={"event_id": "x"})])
        assert (raised.value.expected, raised.value.actual) == (0, 1)
        with pytest.raises(ConcurrencyConflict):
            store.append("t1", "appointment:a1", 2, [third])
        assert store.read_stream("t1", "appointment:a1") == [first]
        assert len(store.read_all()) == 1

    def test_retrying_an_append_is_a_no_op(self, store: EventStore) -> None:
        events = appointment_events()
        store.append("t1", "appointment:a1", 0, events[:2])
        again = store.append("t1", "appointment:a1", 0, events[:2])
        assert (again.duplicate, again.stream_version) == (True, 2)
        assert len(store.read_all()) == 2
        assert len(store.pending_outbox()) == 2

    def test_an_event_id_cannot_name_two_events(self, store: EventStore) -> None:
        [booked, *_] = appointment_events()
        store.append("t1", "appointment:a1", 0, [booked])
        other = appointment_events("a2")[0].model_copy(update={"event_id": booked.event_id})
        with pytest.raises(EventIdReused):
            store.append("t1", "appointment:a2", 0, [other])

    def test_versions_must_follow_the_expected_version(self, store: EventStore) -> None:
        events = appointment_events()
        with pytest.raises(ValueError, match="version"):
            store.append("t1", "appointment:a1", 0, events[1:])
        with pytest.raises(ValueError, match="another stream"):
            store.append("t2", "appointment:a1", 0, events[:1])
        assert store.read_all() == []

    def test_tenants_are_isolated(self, store: EventStore) -> None:
        store.append("t1", "appointment:a1", 0, appointment_events(tenant_id="t1"))
        store.append("t2", "appointment:a1", 0, appointment_events(tenant_id="t2")[:1])
        assert store.stream_version("t1", "appointment:a1") == 3
        assert store.stream_version("t2", "appointment:a1") == 1
        assert {e.tenant_id for e in store.read_stream("t2", "appointment:a1")} == {"t2"}

    def test_read_all_is_in_global_order_and_pages(self, store: EventStore) -> None:
        for name in ("a1", "a2", "a3"):
            store.append("t1", f"appointment:{name}", 0, appointment_events(name)[:2])
        everything = store.read_all()
        assert [s.global_position for s in everything] == sorted(
            s.global_position for s in everything
        )
        assert len(everything) == 6
        assert store.head_position() == everything[-1].global_position
        page = store.read_all(everything[1].global_position, limit=2)
        assert [s.envelope for s in page] == [s.envelope for s in everything[2:4]]

    def test_outbox_delivery_failure_and_dead_letters(self, store: EventStore) -> None:
        store.append("t1", "appointment:a1", 0, appointment_events())
        pending = store.pending_outbox()
        assert [p.envelope.stream_version for p in pending] == [1, 2, 3]
        store.mark_published([pending[0].global_position])
        assert store.record_delivery_failure(pending[1].global_position, "boom", 2) is False
        assert store.record_delivery_failure(pending[1].global_position, "boom again", 2) is True
        assert [p.global_position for p in store.pending_outbox()] == [pending[2].global_position]
        [dead] = store.dead_letters()
        assert (dead.global_position, dead.attempts, dead.reason) == (
            pending[1].global_position,
            2,
            "boom again",
        )
        assert dead.event_id == pending[1].envelope.event_id
        assert store.requeue_dead_letters() == 1
        assert store.dead_letters() == []
        assert len(store.pending_outbox()) == 2
        assert store.pending_outbox(after_position=pending[1].global_position)[0] == pending[2]

    def test_concurrent_writers_to_one_stream_never_both_win(self, store: EventStore) -> None:
        [booked, rescheduled, _] = appointment_events()
        store.append("t1", "appointment:a1", 0, [booked])
        outcomes: list[str] = []

        def write(event_id: str) -> None:
            # A backend may also answer "busy, try again" under contention (Firestore's
            # aborted transactions); callers retry those, as the command service does.
            for _ in range(10):
                try:
                    store.append(
                        "t1",
                        "appointment:a1",
                        1,
                        [rescheduled.model_copy(update={"event_id": event_id})],
                    )
                    outcomes.append("won")
                except ConcurrencyConflict:
                    outcomes.append("conflict")
                except TransientBackendError:
                    continue
                return
            outcomes.append("still busy")

        threads = [
            threading.Thread(target=write, args=(f"writer-{i}",))
            for i in range(self.concurrent_writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict"] * (self.concurrent_writers - 1) + ["won"]
        assert store.stream_version("t1", "appointment:a1") == 2

    def test_appending_to_several_streams_is_all_or_nothing(self, store: EventStore) -> None:
        a1, a2, a3 = (appointment_events(name) for name in ("a1", "a2", "a3"))
        store.append("t1", "appointment:a2", 0, a2[:1])
        results = store.append_streams(
            "t1",
            [
                StreamAppend("appointment:a1", 0, a1[:2]),
                StreamAppend("appointment:a2", 1, a2[1:2]),
            ],
        )
        assert [(r.stream_id, r.stream_version, r.duplicate) for r in results] == [
            ("appointment:a1", 2, False),
            ("appointment:a2", 2, False),
        ]
        # One stream has moved on: nothing is written to any of them.
        with pytest.raises(ConcurrencyConflict) as raised:
            store.append_streams(
                "t1",
                [
                    StreamAppend("appointment:a3", 0, a3[:1]),
                    StreamAppend(
                        "appointment:a1", 1, [a1[2].model_copy(update={"stream_version": 2})]
                    ),
                ],
            )
        assert raised.value.stream_id == "appointment:a1"
        assert store.stream_version("t1", "appointment:a3") == 0
        assert len(store.read_all()) == 4
        positions = [s.global_position for s in store.read_all()]
        assert positions == sorted(positions)

    def test_retrying_a_multi_stream_append_is_a_no_op(self, store: EventStore) -> None:
        a1, a2 = appointment_events("a1"), appointment_events("a2")
        appends = [StreamAppend("appointment:a1", 0, a1), StreamAppend("appointment:a2", 0, a2[:1])]
        store.append_streams("t1", appends)
        again = store.append_streams("t1", appends)
        assert [(r.stream_version, r.duplicate) for r in again] == [(3, True), (1, True)]
        assert len(store.read_all()) == 4
        with pytest.raises(ValueError, match="twice"):
            store.append_streams("t1", [appends[0], appends[0]])
