from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore

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
        instance = FirestoreEventStore(firestore.Client(project=gcp_project))
        yield instance
        instance.close()
