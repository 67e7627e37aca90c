"""Free slots for the patient portal, computed on read.

Nothing is stored per slot: a slot is free when a clinician of the branch performing
the procedure's modality works then (its weekday's hours, in the branch's time zone)
and neither that clinician nor a room of the branch with the modality holds a schedule
entry (an appointment or a block) overlapping it. The procedure's modality and duration
come from the branch's price list as a booking made at ``now`` would price it: the
version in force on ``now``'s local date (``require_price`` in the domain), so that
every slot offered is one ``book_appointment`` accepts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mymedic.app.read_models.directory import price_in_force, require_branch, working_intervals
from mymedic.app.read_models.names import CLINICIANS, PRICE_LISTS, ROOMS, SCHEDULE_ENTRIES
from mymedic.app.read_models.schedule import instant
from mymedic.app.read_models.scope import NotFound
from mymedic.ports import Document, DocumentStore

Interval = tuple[datetime, datetime]


def portal_slots(
    documents: DocumentStore,
    tenant_id: str,
    branch_id: str,
    procedure_code: str,
    day: date,
    *,
    now: datetime,
    step_minutes: int = 15,
    clinician_id: str | None = None,
) -> dict[str, Any]:
    """Free (start, end, clinician, room) combinations of a branch's day for one
    procedure (with one clinician, if named), starting every ``step_minutes`` from each
    working interval's start, after ``now``, in start order."""
    if step_minutes <= 0:
        raise ValueError("step_minutes must be positive")
    if now.utcoffset() is None:
        raise ValueError("now must carry a timezone")
    branch = require_branch(documents, tenant_id, branch_id)
    zone = ZoneInfo(branch["timezone"])
    priced_on = now.astimezone(zone).date()
    found = price_in_force(
        documents.get(PRICE_LISTS, tenant_id, branch_id), priced_on, procedure_code
    )
    if found is None:
        raise NotFound(
            f"branch {branch_id} has no price for {procedure_code} in force on {priced_on}",
            field="procedure_code",
        )
    entry, effective_from = found
    modality: str = entry["modality"]
    duration = timedelta(minutes=int(entry["duration_minutes"]))
    clinicians = [
        clinician
        for clinician in _with_modality(documents, CLINICIANS, tenant_id, branch_id, modality)
        if clinician_id is None or clinician["clinician_id"] == clinician_id
    ]
    rooms = _with_modality(documents, ROOMS, tenant_id, branch_id, modality)
    busy = _busy(documents, tenant_id, branch_id, day)
    slots: list[dict[str, str]] = []
    for clinician in clinicians:
        working = clinician["clinician_id"]
        for start_of_work, end_of_work in working_intervals(clinician, day, zone):
            start = start_of_work
            while start + duration <= end_of_work:
                end = start + duration
                if start > now and _free(busy[("clinician", working)], start, end):
                    slots += [
                        {
                            "start_at": start.astimezone(zone).isoformat(),
                            "end_at": end.astimezone(zone).isoformat(),
                            "clinician_id": working,
                            "room_id": room["room_id"],
                        }
                        for room in rooms
                        if _free(busy[("room", room["room_id"])], start, end)
                    ]
                start += timedelta(minutes=step_minutes)
    slots.sort(key=lambda s: (instant(s["start_at"]), s["clinician_id"], s["room_id"]))
    return {
        "tenant_id": tenant_id,
        "branch_id": branch_id,
        "timezone": branch["timezone"],
        "date": day.isoformat(),
        "procedure_code": procedure_code,
        "modality": modality,
        "duration_minutes": int(entry["duration_minutes"]),
        "price_minor": entry["price_minor"],
        "currency": entry["currency"],
        "price_effective_from": effective_from,
        "step_minutes": step_minutes,
        "slots": slots,
    }


def _with_modality(
    documents: DocumentStore, collection: str, tenant_id: str, branch_id: str, modality: str
) -> list[Document]:
    """The branch's clinicians or rooms with the modality (in id order: the store's)."""
    found = documents.query(collection, tenant_id, {"branch_id": branch_id})
    return [doc for doc in found if modality in doc["modalities"]]


def _busy(
    documents: DocumentStore, tenant_id: str, branch_id: str, day: date
) -> defaultdict[tuple[str, str], list[Interval]]:
    """Every held interval of the branch's resources on the day, by (kind, resource)."""
    busy: defaultdict[tuple[str, str], list[Interval]] = defaultdict(list)
    entries = documents.query(
        SCHEDULE_ENTRIES, tenant_id, {"branch_id": branch_id, "date": day.isoformat()}
    )
    for entry in entries:
        busy[(entry["resource_kind"], entry["resource_id"])].append(
            (instant(entry["start_at"]), instant(entry["end_at"]))
        )
    return busy


def _free(held: list[Interval], start: datetime, end: datetime) -> bool:
    return all(not (held_start < end and start < held_end) for held_start, held_end in held)
