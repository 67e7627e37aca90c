"""The clinic calendar (``mymedic.app.calendar``) of a day, by branch, city or the
whole tenant, optionally one clinician's appointments only."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from mymedic.app.calendar import CALENDAR, calendar_day
from mymedic.app.read_models.schedule import instant
from mymedic.app.read_models.scope import branches_in_scope
from mymedic.ports import Document, DocumentStore


def calendar_view(
    documents: DocumentStore,
    tenant_id: str,
    day: date,
    *,
    branch_id: str | None = None,
    clinician_id: str | None = None,
    city: str | None = None,
) -> dict[str, Any]:
    """The day's appointments (every status) in start order, with counts per status."""
    branches = branches_in_scope(documents, tenant_id, branch_id, city)
    entries: list[Document] = []
    if branches is None:
        entries = documents.query(CALENDAR, tenant_id, {"date": day.isoformat()})
    for branch in branches or []:
        entries += calendar_day(documents, tenant_id, branch, day.isoformat())["appointments"]
    if clinician_id is not None:
        entries = [entry for entry in entries if entry["clinician_id"] == clinician_id]
    entries.sort(key=lambda entry: (instant(entry["start_at"]), entry["appointment_id"]))
    return {
        "tenant_id": tenant_id,
        "date": day.isoformat(),
        "branch_id": branch_id,
        "city": city,
        "clinician_id": clinician_id,
        "appointments": entries,
        "counts": dict(Counter(entry["status"] for entry in entries)),
    }
