from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mymedic.adapters.gcp.firestore_client import firestore_client
from mymedic.adapters.gcp.firestore_documents import FirestoreDocumentStore
from mymedic.ports import DocumentStore
from tests.contract.documents_contract import DocumentStoreContract

pytestmark = pytest.mark.emulator


class TestFirestoreDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self, firestore_emulator: Any, gcp_project: str) -> Iterator[DocumentStore]:
        store = FirestoreDocumentStore(firestore_client(gcp_project))
        yield store
        store.close()
