"""The read-model document store contract, run against every backend."""

from __future__ import annotations

import pytest

from mymedic.ports import DocumentStore, DocumentUnitOfWork


def _checkpoint(documents: DocumentStore, projection: str, tenant: str, stream: str) -> int:
    return documents.transact(lambda uow: uow.checkpoint(projection, tenant, stream))


class DocumentStoreContract:
    @pytest.fixture
    def documents(self) -> DocumentStore:
        raise NotImplementedError

    def test_put_get_delete_in_a_unit_of_work(self, documents: DocumentStore) -> None:
        def put(uow: DocumentUnitOfWork) -> object:
            uow.put("days", "t1", "b1:2026-01-01", {"tenant_id": "t1", "n": 1})
            return uow.get("days", "t1", "b1:2026-01-01")

        assert documents.transact(put) == {"tenant_id": "t1", "n": 1}
        assert documents.get("days", "t1", "b1:2026-01-01") == {"tenant_id": "t1", "n": 1}

        def delete(uow: DocumentUnitOfWork) -> object:
            uow.delete("days", "t1", "b1:2026-01-01")
            return uow.get("days", "t1", "b1:2026-01-01")

        assert documents.transact(delete) is None
        assert documents.get("days", "t1", "b1:2026-01-01") is None

    def test_a_failed_unit_of_work_changes_nothing(self, documents: DocumentStore) -> None:
        def first(uow: DocumentUnitOfWork) -> None:
            uow.put("days", "t1", "d1", {"v": 1})
            uow.set_checkpoint("calendar", "t1", "appointment:a1", 1)

        def crashing(uow: DocumentUnitOfWork) -> None:
            uow.put("days", "t1", "d1", {"v": 2})
            uow.set_checkpoint("calendar", "t1", "appointment:a1", 2)
            raise RuntimeError("projection crashed")

        documents.transact(first)
        with pytest.raises(RuntimeError):
            documents.transact(crashing)
        assert documents.get("days", "t1", "d1") == {"v": 1}
        assert _checkpoint(documents, "calendar", "t1", "appointment:a1") == 1

    def test_checkpoints_are_per_projection_tenant_and_stream(
        self, documents: DocumentStore
    ) -> None:
        documents.transact(lambda uow: uow.set_checkpoint("calendar", "t1", "appointment:a1", 3))
        assert _checkpoint(documents, "calendar", "t1", "appointment:a1") == 3
        assert _checkpoint(documents, "calendar", "t2", "appointment:a1") == 0
        assert _checkpoint(documents, "other", "t1", "appointment:a1") == 0

    def test_queries_never_cross_tenants(self, documents: DocumentStore) -> None:
        def fill(uow: DocumentUnitOfWork) -> None:
            uow.put("days", "t1", "x", {"branch_id": "b1", "date": "2026-01-01"})
            uow.put("days", "t1", "y", {"branch_id": "b2", "date": "2026-01-01"})
            uow.put("days", "t2", "x", {"branch_id": "b1", "date": "2026-01-01"})

        documents.transact(fill)
        assert len(documents.query("days", "t1")) == 2
        assert documents.query("days", "t1", {"branch_id": "b2"}) == [
            {"branch_id": "b2", "date": "2026-01-01"}
        ]
        assert len(documents.query("days", "t2", {"date": "2026-01-01"})) == 1
        with pytest.raises(ValueError, match="field"):
            documents.query("days", "t1", {"branch_id') or 1=1 --": "x"})

    def test_reset_drops_a_projection_s_documents_and_checkpoints(
        self, documents: DocumentStore
    ) -> None:
        def fill(uow: DocumentUnitOfWork) -> None:
            uow.put("days", "t1", "x", {"n": 1})
            uow.put("keep", "t1", "x", {"n": 1})
            uow.set_checkpoint("calendar", "t1", "s", 5)

        documents.transact(fill)
        documents.reset_projection("calendar", ["days"])
        assert documents.get("days", "t1", "x") is None
        assert documents.get("keep", "t1", "x") == {"n": 1}
        assert _checkpoint(documents, "calendar", "t1", "s") == 0
