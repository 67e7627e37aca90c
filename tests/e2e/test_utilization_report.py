"""rpt_utilization against figures worked out by hand: blocked time and leave taken off
the working minutes (a block spanning midnight, days of leave, a block over a split
day, two overlapping blocks, a block lifted again), the rooms' span and the equipment's
minutes (two rooms holding the same equipment); and fct_clinician_block, written from
the clinicians' block events, unchanged by a replay and by redelivered events. All
synthetic, through the HTTP command handler.

The test directory (tests/conftest.py): branch-1 in Pune (+05:30, no daylight saving),
clin-1 and clin-2 working 07:00-21:00 every day (840 minutes), room-1 and room-2 with
no equipment. Added here: clin-3 working 08:00-13:00 and 14:00-20:00 every day (660
minutes), room-3 (MRI-3T and COIL-KNEE) and room-4 (MRI-3T). The days are 10 to 15
March 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mymedic.app.facts import WarehouseFactsProjection
from mymedic.app.projections import ProjectionRunner
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.ports import DateRange
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking

SPLIT_DAY = [
    {"weekday": day, "start": start, "end": end}
    for day in range(7)
    for start, end in (("08:00", "13:00"), ("14:00", "20:00"))
]
DAYS = DateRange("day", date(2026, 3, 10), date(2026, 3, 15))
COLUMNS = ("working_minutes", "blocked_minutes", "available_minutes", "booked_minutes")


def _ist(local: str) -> str:
    return f"{local}+05:30"


class Clinic:
    def __init__(self) -> None:
        self.client = create_server().test_client()

    def send(self, name: str, **body: Any) -> None:
        body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
        response = self.client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))
        assert response.status_code == 201, (name, response.get_json())

    def block(self, clinician: str, block: str, start: str, end: str) -> None:
        self.send(
            "block_clinician_time",
            clinician_id=clinician,
            block_id=block,
            start_at=_ist(start),
            end_at=_ist(end),
            reason="leave",
        )

    def book(self, apt: str, clinician: str, room: str, start: str, **extra: Any) -> None:
        body = booking(
            apt,
            patient_id=f"pat-{apt}",
            clinician_id=clinician,
            room_id=room,
            start_at=_ist(start),
            **extra,
        )
        self.send("book_appointment", **body)


HOUR = timedelta(hours=1)


def _blocked(clinician: str, block: str, start: datetime, hours: float) -> e.ClinicianTimeBlocked:
    end = start + timedelta(hours=hours)
    return e.ClinicianTimeBlocked(
        clinician_id=clinician, block_id=block, start_at=start, end_at=end, reason="leave"
    )


def _append(platform: Platform, clinician: str, payloads: list[e.EventPayload]) -> list[Any]:
    """Events on the clinician's stream as the Zoho path writes them (no schedule
    check), a minute apart from 1 March 2026."""
    stream = f"clinician:{clinician}"
    version = len(platform.store.read_stream(TENANT, stream))
    at = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    envelopes = [
        build_envelope(
            payload,
            metadata=Metadata(tenant_id=TENANT, actor="zoho:sync", source="zoho:webhook"),
            branch_id=BRANCH,
            stream_version=version + n,
            occurred_at=at + n * timedelta(minutes=1),
            recorded_at=at + n * timedelta(minutes=1),
        )
        for n, payload in enumerate(payloads, start=1)
    ]
    platform.store.append(TENANT, stream, version, envelopes)
    return envelopes


def _scenario(platform: Platform) -> None:
    clinic = Clinic()
    clinic.send(
        "register_clinician",
        clinician_id="clin-3",
        display_name="Radiographer 3",
        modalities=["MRI", "CT"],
        working_hours=SPLIT_DAY,
    )
    clinic.send(
        "register_room",
        room_id="room-3",
        display_name="Room 3",
        modalities=["MRI"],
        equipment=["MRI-3T", "COIL-KNEE"],
    )
    clinic.send(
        "register_room",
        room_id="room-4",
        display_name="Room 4",
        modalities=["MRI", "CT"],
        equipment=["MRI-3T"],
    )
    # Across midnight: clin-1 loses 18:00-21:00 on the 10th (180) and 07:00-09:00 on
    # the 11th (120).
    clinic.block("clin-1", "night", "2026-03-10T18:00:00", "2026-03-11T09:00:00")
    # Lifted again: clin-1 keeps the whole of the 12th.
    clinic.block("clin-1", "lifted", "2026-03-12T10:00:00", "2026-03-12T12:00:00")
    clinic.send("unblock_clinician_time", clinician_id="clin-1", block_id="lifted")
    # Three days of leave for clin-2, 12th to 14th: midnight to midnight.
    clinic.block("clin-2", "leave", "2026-03-12T00:00:00", "2026-03-15T00:00:00")
    # 13:00-19:00 over clin-3's split day: 14:00-19:00 goes, 300 of 660.
    clinic.block("clin-3", "afternoon", "2026-03-10T13:00:00", "2026-03-10T19:00:00")
    # Two overlapping blocks (the booking commands refuse them; a CRM's records arrive as
    # they are): 09:00-12:00 and 11:00-15:00, together 09:00-15:00, of which 09:00-13:00
    # and 14:00-15:00 are working time: 300 (not 180 + 180).
    nine = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
    _append(
        platform,
        "clin-3",
        [_blocked("clin-3", "one", nine, hours=3), _blocked("clin-3", "two", nine + HOUR * 2, 4)],
    )
    # The 14th: everybody is on leave (clin-2's leave above).
    clinic.block("clin-1", "sat-1", "2026-03-14T00:00:00", "2026-03-15T00:00:00")
    clinic.block("clin-3", "sat-3", "2026-03-14T00:00:00", "2026-03-15T00:00:00")
    # The 15th: clin-1 starts at 10:00 and clin-2 at 09:00; clin-3 at 08:00 as always.
    clinic.block("clin-1", "sun-1", "2026-03-15T07:00:00", "2026-03-15T10:00:00")
    clinic.block("clin-2", "sun-2", "2026-03-15T07:00:00", "2026-03-15T09:00:00")

    clinic.book("m1", "clin-1", "room-4", "2026-03-10T10:00:00")  # 45
    clinic.book(
        "c1",
        "clin-2",
        "room-4",
        "2026-03-10T11:00:00",
        modality="CT",
        procedure_code="CT-CHEST",
        duration_minutes=30,
    )
    clinic.book("m2", "clin-3", "room-3", "2026-03-10T10:00:00")  # 45
    clinic.book("m3", "clin-3", "room-3", "2026-03-15T08:30:00")  # 45
    platform.catch_up()


@pytest.fixture
def scenario(platform: Platform) -> Platform:
    _scenario(platform)
    return platform


def _rows(platform: Platform) -> dict[tuple[str, str, date], tuple[Any, ...]]:
    rows = platform.warehouse.query("rpt_utilization", {"tenant_id": TENANT}, between=DAYS)
    return {
        (r["subject"], r["subject_id"], r["day"]): (*(r[c] for c in COLUMNS), r["utilization"])
        for r in rows
    }


def _day(n: int) -> date:
    return date(2026, 3, n)


def test_clinicians_lose_their_blocked_working_minutes(scenario: Platform) -> None:
    rows = _rows(scenario)
    clinicians = {k: v for k, v in rows.items() if k[0] == "clinician"}
    # (working, blocked, available, booked, utilization)
    expected = {
        # clin-1: m1 (45) of 660 on the 10th; the lifted block takes nothing on the 12th.
        ("clin-1", 10): (840, 180, 660, 45, 0.0682),
        ("clin-1", 11): (840, 120, 720, 0, 0.0),
        ("clin-1", 12): (840, 0, 840, 0, 0.0),
        ("clin-1", 13): (840, 0, 840, 0, 0.0),
        ("clin-1", 14): (840, 840, 0, 0, None),  # nothing available: no share
        ("clin-1", 15): (840, 180, 660, 0, 0.0),
        # clin-2: c1 (30) of 840 on the 10th; three days of leave.
        ("clin-2", 10): (840, 0, 840, 30, 0.0357),
        ("clin-2", 11): (840, 0, 840, 0, 0.0),
        ("clin-2", 12): (840, 840, 0, 0, None),
        ("clin-2", 13): (840, 840, 0, 0, None),
        ("clin-2", 14): (840, 840, 0, 0, None),
        ("clin-2", 15): (840, 120, 720, 0, 0.0),
        # clin-3: m2 (45) of 360 on the 10th; m3 (45) of 660 on the 15th.
        ("clin-3", 10): (660, 300, 360, 45, 0.125),
        ("clin-3", 11): (660, 300, 360, 0, 0.0),
        ("clin-3", 12): (660, 0, 660, 0, 0.0),
        ("clin-3", 13): (660, 0, 660, 0, 0.0),
        ("clin-3", 14): (660, 660, 0, 0, None),
        ("clin-3", 15): (660, 0, 660, 45, 0.0682),
    }
    assert clinicians == {("clinician", c, _day(d)): v for (c, d), v in expected.items()}


def test_rooms_have_the_span_of_the_clinicians_available_time(scenario: Platform) -> None:
    rows = _rows(scenario)
    # The branch's span: 07:00-21:00 (840) on every day but the 14th, when everybody is
    # on leave (0), and the 15th, when the first clinician available starts at 08:00
    # (clin-3; clin-1 at 10:00, clin-2 at 09:00): 08:00-21:00, 780. Blocks inside the
    # span (clin-1 from 18:00 on the 10th: clin-2 works to 21:00) take nothing off it.
    span = {10: 840, 11: 840, 12: 840, 13: 840, 14: 0, 15: 780}
    booked = {
        ("room-3", 10): 45,  # m2
        ("room-3", 15): 45,  # m3
        ("room-4", 10): 75,  # m1 45 + c1 30
    }
    expected = {}
    for room in ("room-1", "room-2", "room-3", "room-4"):
        for day, available in span.items():
            minutes = booked.get((room, day), 0)
            share = round(minutes / available, 4) if available else None
            expected[("room", room, _day(day))] = (840, 840 - available, available, minutes, share)
    assert {k: v for k, v in rows.items() if k[0] == "room"} == expected
    assert expected[("room", "room-4", _day(10))][-1] == 0.0893  # 75 / 840


def test_equipment_has_the_minutes_of_the_rooms_holding_it(scenario: Platform) -> None:
    rows = _rows(scenario)
    equipment = {k: v for k, v in rows.items() if k[0] == "equipment"}
    # MRI-3T is in room-3 and room-4: twice the span; COIL-KNEE in room-3 only. Rooms
    # without equipment (room-1, room-2) add nothing.
    assert equipment == {
        # 10th: booked m2 45 (room-3) + m1 45 + c1 30 (room-4) = 120 of 1680.
        ("equipment", "MRI-3T", _day(10)): (1680, 0, 1680, 120, 0.0714),
        ("equipment", "COIL-KNEE", _day(10)): (840, 0, 840, 45, 0.0536),
        ("equipment", "MRI-3T", _day(11)): (1680, 0, 1680, 0, 0.0),
        ("equipment", "COIL-KNEE", _day(11)): (840, 0, 840, 0, 0.0),
        ("equipment", "MRI-3T", _day(12)): (1680, 0, 1680, 0, 0.0),
        ("equipment", "COIL-KNEE", _day(12)): (840, 0, 840, 0, 0.0),
        ("equipment", "MRI-3T", _day(13)): (1680, 0, 1680, 0, 0.0),
        ("equipment", "COIL-KNEE", _day(13)): (840, 0, 840, 0, 0.0),
        ("equipment", "MRI-3T", _day(14)): (1680, 1680, 0, 0, None),
        ("equipment", "COIL-KNEE", _day(14)): (840, 840, 0, 0, None),
        # 15th: m3 45 (room-3) of 2 x 780; of 780.
        ("equipment", "MRI-3T", _day(15)): (1680, 120, 1560, 45, 0.0288),
        ("equipment", "COIL-KNEE", _day(15)): (840, 60, 780, 45, 0.0577),
    }


def test_the_block_facts(scenario: Platform) -> None:
    rows = scenario.warehouse.query("fct_clinician_block", {"tenant_id": TENANT})
    by_id = {r["block_id"]: r for r in rows}
    assert len(rows) == 10  # eight through the commands, one and two as from a CRM
    assert {r["branch_id"] for r in rows} == {BRANCH}
    assert [k for k, r in by_id.items() if not r["is_active"]] == ["lifted"]
    night = by_id["night"]
    assert (night["clinician_id"], night["start_at"], night["end_at"]) == (
        "clin-1",
        datetime(2026, 3, 10, 12, 30, tzinfo=UTC),
        datetime(2026, 3, 11, 3, 30, tzinfo=UTC),
    )


def test_a_block_registered_again_replaces_it_and_replay_or_redelivery_change_nothing(
    scenario: Platform,
) -> None:
    store, warehouse = scenario.store, scenario.warehouse
    # A booking on the 21st: its days are in the report whatever today's date.
    Clinic().book("m4", "clin-3", "room-3", "2026-03-21T15:00:00")
    # 2026-03-20 08:00 IST, a Friday: z1 first takes two days, then 08:00-10:00 only.
    start = datetime(2026, 3, 20, 2, 30, tzinfo=UTC)
    envelopes = _append(
        scenario,
        "clin-3",
        [
            _blocked("clin-3", "z1", start, hours=48),
            _blocked("clin-3", "z1", start, hours=2),
            _blocked("clin-3", "z2", start + HOUR * 4, hours=1),
            e.ClinicianTimeUnblocked(clinician_id="clin-3", block_id="z2"),
        ],
    )
    scenario.catch_up()
    march_20 = DateRange("day", date(2026, 3, 20), date(2026, 3, 21))
    clin_3 = {"tenant_id": TENANT, "subject_id": "clin-3"}
    utilization = warehouse.query("rpt_utilization", clin_3, between=march_20)
    # The 20th: 08:00-10:00 blocked (z1 as registered again; z2 lifted); the 21st whole.
    assert [(r["day"], r["blocked_minutes"], r["available_minutes"]) for r in utilization] == [
        (date(2026, 3, 20), 120, 540),
        (date(2026, 3, 21), 0, 660),
    ]
    blocks = warehouse.query("fct_clinician_block", {"tenant_id": TENANT})
    z1, z2 = (next(r for r in blocks if r["block_id"] == b) for b in ("z1", "z2"))
    assert (z1["end_at"], z1["is_active"], z1["last_event_id"]) == (
        start + timedelta(hours=2),
        True,
        envelopes[1].event_id,
    )
    assert (z2["is_active"], z2["last_event_id"]) == (False, envelopes[3].event_id)

    def snapshot() -> tuple[list[Any], list[Any]]:
        return (
            warehouse.query("fct_clinician_block", {"tenant_id": TENANT}),
            warehouse.query("rpt_utilization", {"tenant_id": TENANT}, between=DAYS),
        )

    before = snapshot()
    # Redelivered, the whole store once more: every event is recognised and skipped.
    projection = WarehouseFactsProjection()
    runner = ProjectionRunner(projection, warehouse, store)
    everything = [stored.envelope for stored in store.read_all(0, 100_000)]
    runner.handle_batch(everything)
    facts = [ev for ev in everything if ev.category in projection.categories]
    assert sum(ev.event_type.startswith("clinician.time_") for ev in facts) == 15
    assert (runner.stats.applied, runner.stats.skipped) == (0, len(facts))
    assert snapshot() == before
    # Rebuilt from the store: the same rows.
    scenario.rebuild_projections()
    assert snapshot() == before
