from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mymedic.adapters.gcp.firestore_client import firestore_client
from mymedic.adapters.gcp.firestore_event_store import FirestoreEventStore
from mymedic.ports import EventStore
from tests.contract.event_store_contract import EventStoreContract

pytestmark = pytest.mark.emulator


class TestFirestoreEventStore(EventStoreContract):
    # The Firestore emulator serialises contended transactions slowly: two writers
    # show the same property as four.
    concurrent_writers = 2

    @pytest.fixture
    def store(self, firestore_emulator: Any, gcp_project: str) -> Iterator[EventStore]:
        instance = FirestoreEventStore(firestore_client(gcp_project))
        yield instance
        instance.close()


def test_an_unreachable_firestore_fails_fast_with_a_typed_error(
    monkeypatch: pytest.MonkeyPatch, gcp_project: str
) -> None:
    import time

    from mymedic.emulators import free_port
    from mymedic.ports import TransientBackendError
    from tests.contract.events import appointment_events

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    store = FirestoreEventStore(firestore_client(gcp_project, timeout=2), timeout=2)
    started = time.monotonic()
    with pytest.raises(TransientBackendError):
        store.append("t1", "appointment:a1", 0, appointment_events()[:1])
    with pytest.raises(TransientBackendError):
        store.read_all()
    assert time.monotonic() - started < 20


def test_an_emulator_stopped_mid_test_gives_a_typed_error_not_a_hang(
    monkeypatch: pytest.MonkeyPatch, gcp_project: str, tmp_path: Path
) -> None:
    import time

    from mymedic.emulators import start_firestore
    from mymedic.ports import TransientBackendError
    from tests.contract.events import appointment_events

    own = start_firestore(tmp_path)
    try:
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", own.host_port)
        # A deadline generous enough for a loaded CI machine, short enough to prove
        # that nothing waits for the client's default minute of retries.
        store = FirestoreEventStore(firestore_client(gcp_project, timeout=5), timeout=5)
        booked, rescheduled, _ = appointment_events()
        store.append("t1", "appointment:a1", 0, [booked])
        own.stop()
        started = time.monotonic()
        with pytest.raises(TransientBackendError):
            store.append("t1", "appointment:a1", 1, [rescheduled])
        with pytest.raises(TransientBackendError):
            store.read_stream("t1", "appointment:a1")
        assert time.monotonic() - started < 30
    finally:
        own.stop()
