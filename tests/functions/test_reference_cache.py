"""Directory states kept between commands are never stale where it matters."""

from __future__ import annotations

from flask.testing import FlaskClient
from functions_framework import create_app

from mymedic.bootstrap import Platform
from tests.conftest import BRANCH, TENANT, as_admin, booking, written
from tests.functions.test_booking_rules_http import MAIN


def _price_rise(client: FlaskClient, amount: int) -> None:
    body = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "effective_from": "2026-03-01",
        "prices": [
            {
                "procedure_code": "MRI-BRAIN",
                "modality": "MRI",
                "price_minor": amount,
                "currency": "INR",
                "duration_minutes": 45,
            }
        ],
    }
    assert client.post("/update_price_list", json=body).status_code == 201


def test_a_price_change_applies_to_the_very_next_booking(platform: Platform) -> None:
    client = as_admin(create_app("commands", MAIN).test_client())
    assert client.post("/book_appointment", json=booking("apt-1")).status_code == 201
    _price_rise(client, 900_000)
    later = booking("apt-2", start_at="2026-03-10T12:00:00+05:30")
    assert client.post("/book_appointment", json=later).status_code == 201
    _price_rise(client, 950_000)
    last = booking("apt-3", start_at="2026-03-10T14:00:00+05:30")
    assert client.post("/book_appointment", json=last).status_code == 201
    prices = [
        stored.envelope.data().price_minor
        for stored in written(platform)
        if stored.envelope.event_type == "appointment.booked"
    ]
    assert prices == [850_000, 900_000, 950_000]


def test_a_block_added_after_the_clinician_was_kept_still_refuses_bookings(
    platform: Platform,
) -> None:
    client = as_admin(create_app("commands", MAIN).test_client())
    assert client.post("/book_appointment", json=booking("apt-1")).status_code == 201
    block = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "clinician_id": "clin-1",
        "block_id": "meeting",
        "start_at": "2026-03-10T15:00:00+05:30",
        "end_at": "2026-03-10T16:00:00+05:30",
        "reason": "meeting",
    }
    assert client.post("/block_clinician_time", json=block).status_code == 201
    clash = booking("apt-2", start_at="2026-03-10T15:30:00+05:30")
    response = client.post("/book_appointment", json=clash)
    assert (response.status_code, response.get_json()["error"]) == (409, "slot_taken")
