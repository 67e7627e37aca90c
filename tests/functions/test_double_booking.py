"""No clinician or room is ever booked twice for overlapping times."""

from __future__ import annotations

import contextlib
import multiprocessing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mymedic.adapters.local.event_store import SqliteEventStore
from mymedic.app.commands import CommandService
from mymedic.bootstrap import Platform
from mymedic.domain import commands as c
from mymedic.domain.aggregates import AppointmentState, fold
from mymedic.domain.directory import ClinicianState
from mymedic.domain.envelope import Metadata
from mymedic.domain.errors import DomainError
from mymedic.domain.schedule import SlotTaken
from mymedic.ports import ConcurrencyConflict
from tests.conftest import BRANCH, TENANT, StepClock, as_admin, booking, seed_directory

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
REF = {"tenant_id": TENANT, "branch_id": BRANCH}


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    return as_admin(create_app("commands", MAIN).test_client())


def _book(client: FlaskClient, apt: str, **fields: Any) -> Any:
    return client.post("/book_appointment", json=booking(apt, **fields))


def test_an_overlapping_booking_of_the_clinician_or_the_room_is_refused(
    client: FlaskClient, platform: Platform
) -> None:
    assert _book(client, "a1").status_code == 201  # 10:00-10:45, clin-1, room-1
    same_clinician = _book(client, "a2", room_id="room-2", start_at="2026-03-10T10:30:00+05:30")
    assert same_clinician.status_code == 409
    assert same_clinician.get_json() | {"message": ""} == {
        "error": "slot_taken",
        "field": "clinician_id",
        "message": "",
    }
    same_room = _book(client, "a3", clinician_id="clin-2", start_at="2026-03-10T09:30:00+05:30")
    assert (same_room.status_code, same_room.get_json()["field"]) == (409, "room_id")
    back_to_back = _book(client, "a4", start_at="2026-03-10T10:45:00+05:30")
    assert back_to_back.status_code == 201
    assert platform.store.stream_version(TENANT, "appointment:a2") == 0


def test_cancelling_frees_the_slot_and_rescheduling_moves_it(client: FlaskClient) -> None:
    assert _book(client, "a1").status_code == 201
    assert _book(client, "a2", start_at="2026-03-10T12:00:00+05:30").status_code == 201
    into_taken = client.post(
        "/reschedule_appointment",
        json={**REF, "appointment_id": "a2", "start_at": "2026-03-10T10:15:00+05:30"},
    )
    assert (into_taken.status_code, into_taken.get_json()["error"]) == (409, "slot_taken")
    cancel = client.post("/cancel_appointment", json={**REF, "appointment_id": "a1", "reason": "x"})
    assert cancel.status_code == 201
    moved = client.post(
        "/reschedule_appointment",
        json={**REF, "appointment_id": "a2", "start_at": "2026-03-10T10:15:00+05:30"},
    )
    assert moved.status_code == 201
    # a2's old 12:00 slot was released by the move.
    assert _book(client, "a3", start_at="2026-03-10T12:00:00+05:30").status_code == 201


def _book_in_process(path: str, appointment_id: str, start: Any, results: Any) -> None:
    service = CommandService(SqliteEventStore(path), clock=StepClock())
    start.wait()
    try:
        service.handle(
            c.BookAppointment.model_validate(booking(appointment_id)),
            Metadata(tenant_id=TENANT, actor="test", source="race"),
        )
        results.put("won")
    except (SlotTaken, ConcurrencyConflict):
        results.put("lost")


def test_two_processes_booking_the_same_slot_exactly_one_wins(tmp_path: Path) -> None:
    path = str(tmp_path / "events.sqlite")
    seeding = SqliteEventStore(path)
    seed_directory(CommandService(seeding, clock=StepClock()))
    seeding.close()
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_book_in_process, args=(path, f"race-{i}", start, results))
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(results.get(timeout=5) for _ in workers) == ["lost", "won"]
    store = SqliteEventStore(path)
    booked = [s for s in store.read_all() if s.envelope.event_type == "appointment.booked"]
    assert len(booked) == 1
    store.close()


SLOTS = [
    f"2026-03-10T{hour:02d}:{minute:02d}:00+05:30" for hour in (9, 10) for minute in (0, 20, 40)
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["book", "reschedule", "cancel", "block", "unblock"]),
            st.integers(0, 4),
            st.sampled_from(SLOTS),
            st.sampled_from(["clin-1", "clin-2"]),
            st.sampled_from(["room-1", "room-2"]),
        ),
        max_size=25,
    )
)
def test_random_command_sequences_never_double_book(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int, str, str, str]]
) -> None:
    store = SqliteEventStore(tmp_path_factory.mktemp("h") / "events.sqlite")
    service = CommandService(store, clock=StepClock())  # before every slot below
    seed_directory(service)
    meta = Metadata(tenant_id=TENANT, actor="test", source="property")
    accepted: dict[str, int] = {}
    for action, n, start, clinician, room in steps:
        apt = f"apt-{n}"
        command: c.Command
        if action == "book":
            command = c.BookAppointment.model_validate(
                booking(
                    apt, start_at=start, clinician_id=clinician, room_id=room, duration_minutes=30
                )
            )
        elif action == "reschedule":
            command = c.RescheduleAppointment(**REF, appointment_id=apt, start_at=start)
        elif action == "block":
            begin = datetime.fromisoformat(start)
            command = c.BlockClinicianTime(
                **REF,
                clinician_id=clinician,
                block_id=f"blk-{n}",
                start_at=begin,
                end_at=begin + timedelta(minutes=30),
                reason="meeting",
            )
        elif action == "unblock":
            command = c.UnblockClinicianTime(**REF, clinician_id=clinician, block_id=f"blk-{n}")
        else:
            command = c.CancelAppointment(**REF, appointment_id=apt, reason="x")
        with contextlib.suppress(DomainError):
            service.handle(command, meta)
            accepted[action] = accepted.get(action, 0) + 1
    held: dict[str, list[tuple[datetime, datetime]]] = {}
    for clinician in ("clin-1", "clin-2"):
        blocked = fold(e.data() for e in store.read_stream(TENANT, f"clinician:{clinician}"))
        assert isinstance(blocked, ClinicianState)
        for begin, end in blocked.blocks.values():
            for other_begin, other_end in held.get(f"clinician:{clinician}", []):
                assert not (other_begin < end and begin < other_end), "overlapping blocks"
            held.setdefault(f"clinician:{clinician}", []).append((begin, end))
    for n in range(5):
        state = fold(e.data() for e in store.read_stream(TENANT, f"appointment:apt-{n}"))
        if not isinstance(state, AppointmentState) or state.status == "cancelled":
            continue
        begin = state.start_at
        end = begin + timedelta(minutes=state.duration_minutes)
        for resource in (f"clinician:{state.clinician_id}", f"room:{state.room_id}"):
            for other_begin, other_end in held.get(resource, []):
                assert not (other_begin < end and begin < other_end), f"{resource} double booked"
            held.setdefault(resource, []).append((begin, end))
    store.close()
    if any(action in ("book", "block") for action, *_ in steps):
        assert accepted, "every command was refused: the property proves nothing"


def test_a_completed_appointment_keeps_its_interval(client: FlaskClient) -> None:
    assert _book(client, "a1").status_code == 201
    done = client.post("/complete_appointment", json={**REF, "appointment_id": "a1"})
    assert done.status_code == 201
    assert _book(client, "a2").status_code == 409
