"""The booking rules through the command function: the directory, working hours, price
lists, deposits and the cancellation policy, blocked time, arrivals and follow-ups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from mymedic.bootstrap import Platform
from tests.conftest import BRANCH, TENANT, as_admin, bearer, booking, written

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
REF = {"tenant_id": TENANT, "branch_id": BRANCH}
APT = {**REF, "appointment_id": "apt-1"}


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    return as_admin(create_app("commands", MAIN).test_client())


def _error(response: Any) -> tuple[int, str, str | None]:
    body = response.get_json()
    field = body.get("field") or next((f["field"] for f in body.get("fields", [])), None)
    return response.status_code, body["error"], field


def _pay(payment_id: str, amount: int, kind: str = "deposit", **extra: Any) -> dict[str, Any]:
    return {
        **APT,
        "payment_id": payment_id,
        "kind": kind,
        "amount_minor": amount,
        "currency": "INR",
        "mode": "upi",
        "provider": "razorpay",
        **extra,
    }


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"clinician_id": "clin-9"}, (422, "unknown_reference", "clinician_id")),
        ({"room_id": "room-9"}, (422, "unknown_reference", "room_id")),
        ({"branch_id": "branch-9"}, (422, "unknown_reference", "branch_id")),
        ({"procedure_code": "PET-CT"}, (422, "unknown_reference", "procedure_code")),
        ({"modality": "CT"}, (422, "rule_violated", "modality")),
        ({"start_at": "2026-03-10T06:30:00+05:30"}, (422, "rule_violated", "start_at")),
        ({"start_at": "2026-03-10T20:30:00+05:30"}, (422, "rule_violated", "start_at")),
        ({"start_at": "2026-03-10T10:00:00"}, (422, "validation_failed", "start_at")),
        ({"price_minor": 1}, (422, "validation_failed", "price_minor")),
        ({"duration_minutes": -30}, (422, "validation_failed", "duration_minutes")),
    ],
)
def test_a_booking_is_checked_against_the_directory(
    client: FlaskClient, platform: Platform, override: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    response = client.post("/book_appointment", json=booking(**override))
    assert _error(response) == expected
    assert written(platform) == []


def test_the_price_comes_from_the_list_in_force_when_the_booking_is_made(
    client: FlaskClient, platform: Platform
) -> None:
    rise = {
        **REF,
        "effective_from": "2026-03-05",
        "prices": [
            {
                "procedure_code": "MRI-BRAIN",
                "modality": "MRI",
                "price_minor": 900_000,
                "currency": "INR",
                "duration_minutes": 60,
            }
        ],
    }
    staff = bearer(role="staff", branches=frozenset({BRANCH}))
    assert client.post("/update_price_list", json=rise, headers=staff).status_code == 403
    assert client.post("/update_price_list", json=rise).status_code == 201
    before = booking("apt-1", duration_minutes=None, occurred_at="2026-03-04T12:00:00+05:30")
    after = booking(
        "apt-2",
        duration_minutes=None,
        start_at="2026-03-10T14:00:00+05:30",
        occurred_at="2026-03-05T09:00:00+05:30",
    )
    assert client.post("/book_appointment", json=before).status_code == 201
    assert client.post("/book_appointment", json=after).status_code == 201
    prices = {
        stored.envelope.data().appointment_id: stored.envelope.data()
        for stored in written(platform)
        if stored.envelope.event_type == "appointment.booked"
    }
    assert (prices["apt-1"].price_minor, prices["apt-1"].duration_minutes) == (850_000, 45)
    assert (prices["apt-2"].price_minor, prices["apt-2"].duration_minutes) == (900_000, 60)
    assert str(prices["apt-2"].price_effective_from) == "2026-03-05"


def _policy(client: FlaskClient, **fields: Any) -> Any:
    body = {"tenant_id": TENANT, "forfeit_within_hours": 24, "forfeit_percent": 50, **fields}
    return client.post("/set_cancellation_policy", json=body)


def test_the_cancellation_policy_is_tenant_wide_and_admin_only(client: FlaskClient) -> None:
    listed = bearer(branches=frozenset({BRANCH, "branch-2"}))
    body = {"tenant_id": TENANT, "forfeit_within_hours": 24, "forfeit_percent": 50}
    refused = client.post("/set_cancellation_policy", json=body, headers=listed)
    assert _error(refused)[:2] == (403, "branch_not_allowed")
    assert _policy(client).status_code == 201
    assert _policy(client, forfeit_percent=101).status_code == 422
    assert _error(_policy(client, branch_id=BRANCH))[:2] == (422, "validation_failed")


def test_a_late_cancellation_forfeits_the_deposit_and_records_the_policy(
    client: FlaskClient, platform: Platform
) -> None:
    assert _policy(client).status_code == 201
    assert client.post("/book_appointment", json=booking()).status_code == 201
    assert client.post("/take_payment", json=_pay("dep-1", 200_000)).status_code == 201
    negative = client.post("/take_payment", json=_pay("dep-2", -5))
    assert _error(negative) == (422, "validation_failed", "amount_minor")
    cancel = {**APT, "reason": "travel", "occurred_at": "2026-03-10T01:00:00+05:30"}
    response = client.post("/cancel_appointment", json=cancel)
    assert response.status_code == 201
    assert len(response.get_json()["event_ids"]) >= 2
    stream = platform.store.read_stream(TENANT, "appointment:apt-1")
    forfeited = stream[-1].data()
    assert stream[-1].event_type == "appointment.deposit_forfeited"
    assert (forfeited.amount_minor, forfeited.policy_percent) == (100_000, 50)
    refund = {
        **APT,
        "refund_id": "r-1",
        "payment_id": "dep-1",
        "amount_minor": 100_001,
        "currency": "INR",
        "reason": "goodwill",
    }
    too_much = client.post("/refund_appointment_payment", json=refund)
    assert _error(too_much) == (422, "rule_violated", "amount_minor")
    staff = bearer(role="staff", branches=frozenset({BRANCH}))
    fine = {**refund, "amount_minor": 100_000}
    assert client.post("/refund_appointment_payment", json=fine, headers=staff).status_code == 403
    assert client.post("/refund_appointment_payment", json=fine).status_code == 201


def test_an_early_cancellation_keeps_the_whole_deposit_refundable(
    client: FlaskClient, platform: Platform
) -> None:
    assert _policy(client).status_code == 201
    assert client.post("/book_appointment", json=booking()).status_code == 201
    assert client.post("/take_payment", json=_pay("dep-1", 200_000)).status_code == 201
    assert client.post("/cancel_appointment", json={**APT, "reason": "x"}).status_code == 201
    types = [s.event_type for s in platform.store.read_stream(TENANT, "appointment:apt-1")]
    assert types[-1] == "appointment.cancelled"


def test_blocked_time_cannot_be_booked_until_it_is_released(client: FlaskClient) -> None:
    block = {
        **REF,
        "clinician_id": "clin-1",
        "block_id": "training",
        "start_at": "2026-03-10T09:00:00+05:30",
        "end_at": "2026-03-10T12:00:00+05:30",
        "reason": "training",
    }
    assert client.post("/block_clinician_time", json=block).status_code == 201
    assert _error(client.post("/book_appointment", json=booking()))[:2] == (409, "slot_taken")
    clash = {**block, "block_id": "other"}
    assert _error(client.post("/block_clinician_time", json=clash))[:2] == (409, "slot_taken")
    unknown = {**block, "clinician_id": "clin-9", "block_id": "x"}
    assert _error(client.post("/block_clinician_time", json=unknown))[:2] == (404, "not_found")
    unblock = {**REF, "clinician_id": "clin-1", "block_id": "training"}
    assert client.post("/unblock_clinician_time", json=unblock).status_code == 201
    assert client.post("/book_appointment", json=booking()).status_code == 201
    again = {**block, "block_id": "training-2"}
    assert _error(client.post("/block_clinician_time", json=again))[:2] == (409, "slot_taken")


def test_arrival_completion_payment_and_follow_up(client: FlaskClient, platform: Platform) -> None:
    assert client.post("/book_appointment", json=booking()).status_code == 201
    doctor = bearer(role="doctor", branches=frozenset({BRANCH}))
    assert client.post("/mark_arrived", json=APT, headers=doctor).status_code == 201
    assert _error(client.post("/mark_no_show", json=APT))[:2] == (422, "rule_violated")
    assert client.post("/complete_appointment", json=APT, headers=doctor).status_code == 201
    balance = _pay("pay-1", 850_000, kind="payment", mode="cash", provider="cash")
    assert client.post("/take_payment", json=balance).status_code == 201
    over = _pay("pay-2", 1, kind="payment")
    assert _error(client.post("/take_payment", json=over)) == (422, "rule_violated", "amount_minor")
    follow_up = {
        **APT,
        "follow_up_id": "fu-1",
        "due_on": "2026-04-10",
        "procedure_code": "MRI-BRAIN",
        "modality": "MRI",
    }
    assert client.post("/schedule_follow_up", json=follow_up, headers=doctor).status_code == 201
    types = [s.event_type for s in platform.store.read_stream(TENANT, "appointment:apt-1")]
    assert types == [
        "appointment.booked",
        "appointment.arrived",
        "appointment.completed",
        "appointment.payment_taken",
        "appointment.follow_up_scheduled",
    ]
    again = booking(
        "apt-2",
        start_at="2026-04-10T10:00:00+05:30",
        follow_up_id="fu-1",
        follow_up_appointment_id="apt-1",
    )
    assert client.post("/book_appointment", json=again).status_code == 201


def test_a_clinician_or_room_of_another_branch_is_refused(client: FlaskClient) -> None:
    from tests.conftest import post_directory

    post_directory(client, TENANT, "branch-2", suffix="-b2")
    response = client.post("/book_appointment", json=booking(room_id="room-1-b2"))
    assert _error(response) == (422, "rule_violated", "room_id")
    response = client.post("/book_appointment", json=booking(clinician_id="clin-1-b2"))
    assert _error(response) == (422, "rule_violated", "clinician_id")


def test_registering_twice_or_for_an_unknown_branch_is_refused(client: FlaskClient) -> None:
    room = {**REF, "room_id": "room-1", "display_name": "Again", "modalities": ["MRI"]}
    assert _error(client.post("/register_room", json=room))[:2] == (409, "already_exists")
    elsewhere = {**room, "room_id": "room-7", "branch_id": "branch-9"}
    assert _error(client.post("/register_room", json=elsewhere)) == (
        422,
        "unknown_reference",
        "branch_id",
    )
    branch = {
        **REF,
        "branch_id": "branch-3",
        "display_name": "Nowhere",
        "city": "Pune",
        "timezone": "Mars/Olympus",
        "currency": "INR",
    }
    assert _error(client.post("/register_branch", json=branch)) == (
        422,
        "validation_failed",
        "timezone",
    )
    hours = {
        **REF,
        "clinician_id": "clin-5",
        "display_name": "Dr Backwards",
        "modalities": ["MRI"],
        "working_hours": [{"weekday": 0, "start": "18:00", "end": "09:00"}],
    }
    assert _error(client.post("/register_clinician", json=hours))[:2] == (
        422,
        "validation_failed",
    )
