"""What the queries share: the not-found error, filtering by branch or city, and the
upsert of a document's list entry.

A city is resolved to the ids of its branches at read time, through the ``branches``
collection (case-insensitively), so documents never need to repeat the city and a
branch registered after them is still found. Every query is one tenant's: the document
store partitions by tenant.
"""

from __future__ import annotations

from typing import Any

from mymedic.app.read_models.names import BRANCHES
from mymedic.ports import Document, DocumentStore


class NotFound(LookupError):
    """The branch, clinician or procedure a query names does not exist (HTTP 404)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def city_key(city: str) -> str:
    return " ".join(city.split()).casefold()


def branches_in_scope(
    documents: DocumentStore, tenant_id: str, branch_id: str | None, city: str | None
) -> list[str] | None:
    """The branch ids a read is limited to, or None for every branch of the tenant."""
    if city is None:
        return None if branch_id is None else [branch_id]
    in_city = sorted(
        doc["branch_id"]
        for doc in documents.query(BRANCHES, tenant_id, {"city_key": city_key(city)})
    )
    if branch_id is None:
        return in_city
    return [branch_id] if branch_id in in_city else []


def scoped_query(
    documents: DocumentStore,
    collection: str,
    tenant_id: str,
    where: dict[str, Any],
    branches: list[str] | None,
) -> list[Document]:
    """``where``'s equality filters (None values dropped), within ``branches``: one
    query per branch (the store filters on equality only)."""
    filters = {name: value for name, value in where.items() if value is not None}
    if branches is None:
        return documents.query(collection, tenant_id, filters)
    found: list[Document] = []
    for branch in branches:
        found += documents.query(collection, tenant_id, {**filters, "branch_id": branch})
    return found


def upsert_entry(
    items: list[dict[str, Any]], key: str, item: dict[str, Any]
) -> list[dict[str, Any]]:
    """A document's list with ``item`` in place of any with its key (a replay adds
    nothing)."""
    return [*(other for other in items if other[key] != item[key]), item]
