"""fct_complaint and the rooms' equipment (hist_room, dim_room) against rows worked out
by hand: events appended to the store as Zoho ingestion writes them, the warehouse
brought up to date by the platform's own runners. All synthetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mymedic.app.facts import WarehouseFactsProjection
from mymedic.app.projections import ProjectionRunner
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope

TENANT = "t3"
METADATA = Metadata(tenant_id=TENANT, actor="zoho:sync", source="zoho:webhook")
TEXT = "Synthetic complaint text about the waiting room"


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _append(platform: Platform, events: list[EventEnvelope]) -> None:
    first = events[0]
    platform.store.append(TENANT, first.stream_id, first.stream_version - 1, events)


def _event(
    payload: e.EventPayload,
    version: int,
    at: datetime,
    *,
    branch: str | None = "b1",
    personal: e.FreeTextPersonalData | None = None,
) -> EventEnvelope:
    return build_envelope(
        payload,
        metadata=METADATA,
        branch_id=branch,
        stream_version=version,
        occurred_at=at,
        # Recorded a day later: the rows keep the times the events say things happened.
        recorded_at=at + timedelta(days=1),
        personal=personal,
        subject_id="p1" if personal else None,
    )


def _status(complaint: str, status: e.ComplaintStatus, version: int, at: datetime) -> EventEnvelope:
    return _event(e.ComplaintStatusChanged(complaint_id=complaint, status=status), version, at)


def _complaints(platform: Platform) -> dict[str, dict[str, Any]]:
    rows = platform.warehouse.query("fct_complaint", {"tenant_id": TENANT})
    return {row["complaint_id"]: row for row in rows}


def test_a_complaint_row_follows_its_status_and_replays_the_same(platform: Platform) -> None:
    recorded = _event(
        e.ComplaintRecorded(
            complaint_id="c1",
            patient_id="p1",
            appointment_id="a1",
            complaint_category="waiting_time",
        ),
        1,
        _at(2, 9),
        personal=e.FreeTextPersonalData(comment=TEXT),
    )
    # Tenant-wide ("*") and about no one: branch, patient and appointment are null.
    anonymous = _event(
        e.ComplaintRecorded(complaint_id="c2", complaint_category="billing"),
        1,
        _at(3, 8),
        branch="*",
    )
    _append(platform, [recorded])
    _append(platform, [anonymous])
    platform.catch_up()
    opened = {
        "tenant_id": TENANT,
        "branch_id": "b1",
        "complaint_id": "c1",
        "patient_id": "p1",
        "appointment_id": "a1",
        "complaint_category": "waiting_time",
        "status": "open",
        "opened_at": _at(2, 9),
        "resolved_at": None,
        "updated_at": _at(2, 9),
        "last_event_id": recorded.event_id,
    }
    assert _complaints(platform) == {
        "c1": opened,
        "c2": {
            "tenant_id": TENANT,
            "branch_id": None,
            "complaint_id": "c2",
            "patient_id": None,
            "appointment_id": None,
            "complaint_category": "billing",
            "status": "open",
            "opened_at": _at(3, 8),
            "resolved_at": None,
            "updated_at": _at(3, 8),
            "last_event_id": anonymous.event_id,
        },
    }

    # Resolved on the 3rd at 10:00, reopened on the 4th (resolved_at null again), closed
    # on the 5th at 12:00: resolved_at is the closing's time, opened_at stays the 2nd's.
    resolved = _status("c1", "resolved", 2, _at(3, 10))
    _append(platform, [resolved])
    platform.catch_up()
    assert _complaints(platform)["c1"] == {
        **opened,
        "status": "resolved",
        "resolved_at": _at(3, 10),
        "updated_at": _at(3, 10),
        "last_event_id": resolved.event_id,
    }
    reopened = _status("c1", "open", 3, _at(4, 11))
    _append(platform, [reopened])
    platform.catch_up()
    assert _complaints(platform)["c1"] == {
        **opened,
        "updated_at": _at(4, 11),
        "last_event_id": reopened.event_id,
    }
    closed = _status("c1", "closed", 4, _at(5, 12))
    _append(platform, [closed])
    platform.catch_up()
    final = _complaints(platform)
    assert final["c1"] == {
        **opened,
        "status": "closed",
        "resolved_at": _at(5, 12),
        "updated_at": _at(5, 12),
        "last_event_id": closed.event_id,
    }
    assert TEXT not in repr(final)

    # Replayed: redelivered to the runner, applied again past its checkpoints, rebuilt.
    events = [recorded, anonymous, resolved, reopened, closed]
    projection = WarehouseFactsProjection()
    runner = ProjectionRunner(projection, platform.warehouse, platform.store)
    runner.handle_batch(events)
    assert runner.stats.skipped == len(events)
    assert _complaints(platform) == final

    def apply_again(uow: Any) -> None:
        for event in events:
            projection.apply(uow, event)

    platform.warehouse.transact(apply_again)
    assert _complaints(platform) == final
    platform.rebuild_projections()
    assert _complaints(platform) == final


def _room(version: int, at: datetime, equipment: list[str]) -> EventEnvelope:
    payload = e.RoomRegistered(
        room_id="r9",
        branch_id="b1",
        display_name="Scanner room",
        modalities=["MRI", "CT"],
        equipment=equipment,
    )
    return _event(payload, version, at)


def test_a_room_version_carries_its_equipment(platform: Platform) -> None:
    first = _room(1, _at(2, 9), ["MRI-3T", "COIL-KNEE"])
    # Registered again without equipment: the new version lists none (null).
    second = _room(2, _at(20, 9), [])
    _append(platform, [first, second])
    platform.catch_up()
    assert platform.warehouse.query("hist_room", {"tenant_id": TENANT}) == [
        {
            "tenant_id": TENANT,
            "branch_id": "b1",
            "room_id": "r9",
            "display_name": "Scanner room",
            "modalities": "MRI,CT",
            "equipment": "MRI-3T,COIL-KNEE",
            "valid_from": _at(2, 9),
            "last_event_id": first.event_id,
        },
        {
            "tenant_id": TENANT,
            "branch_id": "b1",
            "room_id": "r9",
            "display_name": "Scanner room",
            "modalities": "MRI,CT",
            "equipment": None,
            "valid_from": _at(20, 9),
            "last_event_id": second.event_id,
        },
    ]
    rooms = platform.warehouse.query("dim_room", {"tenant_id": TENANT})
    columns = ("valid_from", "valid_to", "is_current", "equipment")
    versions = sorted(tuple(row[c] for c in columns) for row in rooms)
    assert versions == [
        (_at(2, 9), _at(20, 9), False, "MRI-3T,COIL-KNEE"),
        (_at(20, 9), None, True, None),
    ]
