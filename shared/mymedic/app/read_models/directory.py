"""Directory documents: one per branch (with its city), clinician (modalities, working
hours), room (modalities) and branch price list (its effective versions), and the
lookups the other read models make in them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from mymedic.app.read_models.names import BRANCHES, CLINICIANS, PRICE_LISTS, ROOMS
from mymedic.app.read_models.scope import NotFound, city_key
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Document, DocumentStore, DocumentUnitOfWork


def apply_directory(uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    tenant = event.tenant_id
    match data:
        case e.BranchRegistered():
            uow.put(
                BRANCHES,
                tenant,
                data.branch_id,
                {
                    "tenant_id": tenant,
                    "branch_id": data.branch_id,
                    "display_name": data.display_name,
                    "city": data.city,
                    "city_key": city_key(data.city),
                    "timezone": data.timezone,
                    "currency": data.currency,
                },
            )
        case e.ClinicianRegistered():
            uow.put(
                CLINICIANS,
                tenant,
                data.clinician_id,
                {
                    "tenant_id": tenant,
                    "clinician_id": data.clinician_id,
                    "branch_id": data.branch_id,
                    "display_name": data.display_name,
                    "modalities": sorted(data.modalities),
                    "working_hours": [
                        {
                            "weekday": hours.weekday,
                            "start": hours.start.isoformat(),
                            "end": hours.end.isoformat(),
                        }
                        for hours in sorted(
                            data.working_hours, key=lambda h: (h.weekday, h.start, h.end)
                        )
                    ],
                },
            )
        case e.RoomRegistered():
            uow.put(
                ROOMS,
                tenant,
                data.room_id,
                {
                    "tenant_id": tenant,
                    "room_id": data.room_id,
                    "branch_id": data.branch_id,
                    "display_name": data.display_name,
                    "modalities": sorted(data.modalities),
                },
            )
        case e.PriceListUpdated():
            existing = uow.get(PRICE_LISTS, tenant, data.branch_id)
            uow.put(PRICE_LISTS, tenant, data.branch_id, _merged_price_list(tenant, existing, data))


def _merged_price_list(
    tenant: str, existing: Document | None, update: e.PriceListUpdated
) -> Document:
    """As the domain folds it: an update merges into the version of its effective date;
    procedures it does not name keep their entry in that version."""
    versions: dict[str, dict[str, dict[str, Any]]] = {
        version["effective_from"]: {entry["procedure_code"]: entry for entry in version["prices"]}
        for version in (existing or {}).get("versions", [])
    }
    merged = versions.setdefault(update.effective_from.isoformat(), {})
    for entry in update.prices:
        merged[entry.procedure_code] = entry.model_dump(mode="json")
    return {
        "tenant_id": tenant,
        "branch_id": update.branch_id,
        "versions": [
            {"effective_from": effective, "prices": [entries[c] for c in sorted(entries)]}
            for effective, entries in sorted(versions.items())
        ],
    }


# --- lookups ------------------------------------------------------------------------------


def require_branch(documents: DocumentStore, tenant_id: str, branch_id: str) -> Document:
    branch = documents.get(BRANCHES, tenant_id, branch_id)
    if branch is None:
        raise NotFound(f"branch {branch_id} is not registered", field="branch_id")
    return branch


def require_clinician(documents: DocumentStore, tenant_id: str, clinician_id: str) -> Document:
    clinician = documents.get(CLINICIANS, tenant_id, clinician_id)
    if clinician is None:
        raise NotFound(f"clinician {clinician_id} is not registered", field="clinician_id")
    return clinician


def price_in_force(
    price_list: Document | None, day: date, procedure_code: str
) -> tuple[dict[str, Any], str] | None:
    """The entry for ``procedure_code`` in force on ``day`` and the date it took effect
    (the latest version on or before ``day`` that names it), or None."""
    found: tuple[dict[str, Any], str] | None = None
    for version in (price_list or {}).get("versions", []):
        if version["effective_from"] > day.isoformat():
            break
        for entry in version["prices"]:
            if entry["procedure_code"] == procedure_code:
                found = (entry, version["effective_from"])
    return found


def working_intervals(
    clinician: Document, day: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The clinician's working intervals on ``day`` (its weekday's hours, wall-clock
    times of the branch), as UTC instants, in order."""
    intervals = [
        (
            datetime.combine(day, time.fromisoformat(hours["start"]), zone).astimezone(UTC),
            datetime.combine(day, time.fromisoformat(hours["end"]), zone).astimezone(UTC),
        )
        for hours in clinician["working_hours"]
        if hours["weekday"] == day.weekday()
    ]
    return sorted(intervals)
