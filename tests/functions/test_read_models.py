"""The read models (slots, doctors' days, calendar, payments, follow-ups) and their
read endpoint: commands go in through the HTTP handler, the in-process bus applies
their events to the live ``read_models`` projection, and the reads come out of
``GET /read/<model>``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from mymedic.adapters.local.documents import SqliteDocumentStore
from mymedic.app.projections import ProjectionRunner
from mymedic.app.pubsub import encode_pubsub_message
from mymedic.app.read_models import ReadModelsProjection
from mymedic.app.read_models.names import COLLECTIONS
from mymedic.app.read_models.snapshot_schedules import ALL_TENANTS
from mymedic.app.replay import replay
from mymedic.bootstrap import Platform
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import DocumentStore
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking, seed_directory
from tests.contract.events import appointment_events

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
DAY = "2026-03-10"  # a Tuesday; the test clock starts on Monday 2026-03-02 08:00Z
SLOTS_BRANCH = "branch-s"
DUBAI = "branch-d"


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    return create_server().test_client()


def post(client: FlaskClient, name: str, body: dict[str, Any]) -> None:
    response = client.post(f"/commands/{name}", json=body, headers=bearer())
    assert response.status_code == 201, (name, response.get_json())


def read(
    client: FlaskClient, model: str, headers: dict[str, str] | None = None, **params: Any
) -> Any:
    """The 200 body of a read, as the tenant's admin unless ``headers`` say otherwise."""
    response = get(client, model, headers, **params)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def get(
    client: FlaskClient, model: str, headers: dict[str, str] | None = None, **params: Any
) -> Any:
    query = {"tenant_id": TENANT, **params}
    return client.get(f"/read/{model}", query_string=query, headers=headers or bearer())


def book(client: FlaskClient, appointment_id: str, **overrides: Any) -> None:
    body = booking(appointment_id, **overrides)
    body.pop("duration_minutes")  # the price list's
    post(client, "book_appointment", body)


def appointment(appointment_id: str, branch_id: str = BRANCH, **fields: Any) -> dict[str, Any]:
    return {"tenant_id": TENANT, "branch_id": branch_id, "appointment_id": appointment_id, **fields}


def pay(
    client: FlaskClient,
    appointment_id: str,
    payment_id: str,
    amount: int,
    kind: str = "payment",
    currency: str = "INR",
    branch_id: str = BRANCH,
) -> None:
    post(
        client,
        "take_payment",
        appointment(
            appointment_id,
            branch_id,
            payment_id=payment_id,
            kind=kind,
            amount_minor=amount,
            currency=currency,
            mode="upi",
            provider="razorpay",
        ),
    )


def refund(
    client: FlaskClient, appointment_id: str, refund_id: str, payment_id: str, amount: int
) -> None:
    post(
        client,
        "refund_appointment_payment",
        appointment(
            appointment_id,
            refund_id=refund_id,
            payment_id=payment_id,
            amount_minor=amount,
            currency="INR",
            reason="goodwill",
        ),
    )


def cancel(client: FlaskClient, appointment_id: str, branch_id: str = BRANCH) -> None:
    post(client, "cancel_appointment", appointment(appointment_id, branch_id, reason="travel"))


def block(
    client: FlaskClient,
    clinician_id: str,
    block_id: str,
    start_at: str,
    end_at: str,
    branch_id: str = BRANCH,
) -> None:
    post(
        client,
        "block_clinician_time",
        {
            "tenant_id": TENANT,
            "branch_id": branch_id,
            "clinician_id": clinician_id,
            "block_id": block_id,
            "start_at": start_at,
            "end_at": end_at,
            "reason": "training",
        },
    )


def slots_branch(client: FlaskClient) -> None:
    """A small MRI branch: two clinicians working Tuesdays 09:00-13:00 and 14:00-15:00,
    one MRI room (and a CT room the procedure cannot use), a 60-minute procedure."""
    base = {"tenant_id": TENANT, "branch_id": SLOTS_BRANCH}
    post(
        client,
        "register_branch",
        {
            **base,
            "display_name": "Pune East",
            "city": "Pune",
            "timezone": "Asia/Kolkata",
            "currency": "INR",
        },
    )
    hours = [
        {"weekday": 1, "start": "09:00", "end": "13:00"},
        {"weekday": 1, "start": "14:00", "end": "15:00"},
    ]
    for clinician in ("clin-s", "clin-t"):
        post(
            client,
            "register_clinician",
            {
                **base,
                "clinician_id": clinician,
                "display_name": clinician,
                "modalities": ["MRI"],
                "working_hours": hours,
            },
        )
    for room, modality in (("room-s", "MRI"), ("room-x", "CT")):
        post(
            client,
            "register_room",
            {**base, "room_id": room, "display_name": room, "modalities": [modality]},
        )
    price = {
        "procedure_code": "MRI-SPINE",
        "modality": "MRI",
        "price_minor": 500_000,
        "currency": "INR",
        "duration_minutes": 60,
    }
    post(client, "update_price_list", {**base, "effective_from": "2026-01-01", "prices": [price]})


def dubai_branch(client: FlaskClient) -> None:
    """A branch in another city and currency, with one clinician and one room."""
    base = {"tenant_id": TENANT, "branch_id": DUBAI}
    post(
        client,
        "register_branch",
        {
            **base,
            "display_name": "Dubai Marina",
            "city": "Dubai",
            "timezone": "Asia/Dubai",
            "currency": "AED",
        },
    )
    hours = [{"weekday": day, "start": "08:00", "end": "20:00"} for day in range(7)]
    post(
        client,
        "register_clinician",
        {
            **base,
            "clinician_id": "clin-d",
            "display_name": "Dr D",
            "modalities": ["MRI"],
            "working_hours": hours,
        },
    )
    post(
        client,
        "register_room",
        {**base, "room_id": "room-d", "display_name": "D1", "modalities": ["MRI"]},
    )
    price = {
        "procedure_code": "MRI-BRAIN",
        "modality": "MRI",
        "price_minor": 300_000,
        "currency": "AED",
        "duration_minutes": 30,
    }
    post(client, "update_price_list", {**base, "effective_from": "2026-01-01", "prices": [price]})


def starts(body: dict[str, Any]) -> dict[str, list[str]]:
    """Each clinician's free start times (HH:MM, local) for the one MRI room."""
    found: dict[str, list[str]] = defaultdict(list)
    for slot in body["slots"]:
        assert slot["room_id"] == "room-s"
        found[slot["clinician_id"]].append(slot["start_at"][11:16])
    return dict(found)


# --- portal slots ----------------------------------------------------------------------


def test_free_slots_are_working_hours_less_bookings_and_blocks(client: FlaskClient) -> None:
    slots_branch(client)
    params = {"branch_id": SLOTS_BRANCH, "procedure_code": "MRI-SPINE", "date": DAY}
    every = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "14:00"]
    first = read(client, "portal_slots", step_minutes=30, **params)
    assert (first["modality"], first["duration_minutes"], first["price_minor"]) == (
        "MRI",
        60,
        500_000,
    )
    assert starts(first) == {"clin-s": every, "clin-t": every}
    assert first["slots"][0] == {
        "start_at": "2026-03-10T09:00:00+05:30",
        "end_at": "2026-03-10T10:00:00+05:30",
        "clinician_id": "clin-s",
        "room_id": "room-s",
    }

    # clin-s takes the only MRI room 10:00-11:00: neither clinician can use it then.
    book(
        client,
        "apt-s1",
        branch_id=SLOTS_BRANCH,
        clinician_id="clin-s",
        room_id="room-s",
        procedure_code="MRI-SPINE",
        start_at="2026-03-10T10:00:00+05:30",
    )
    # clin-t is away 11:30-12:15: only clin-t loses those starts.
    block(
        client,
        "clin-t",
        "training-1",
        "2026-03-10T11:30:00+05:30",
        "2026-03-10T12:15:00+05:30",
        branch_id=SLOTS_BRANCH,
    )
    after = read(client, "portal_slots", step_minutes=30, **params)
    assert starts(after) == {
        "clin-s": ["09:00", "11:00", "11:30", "12:00", "14:00"],
        "clin-t": ["09:00", "14:00"],
    }

    cancel(client, "apt-s1", SLOTS_BRANCH)
    freed = read(client, "portal_slots", step_minutes=30, **params)
    assert starts(freed) == {
        "clin-s": every,
        "clin-t": ["09:00", "09:30", "10:00", "10:30", "14:00"],
    }
    # Another weekday: nobody works.
    assert read(client, "portal_slots", **{**params, "date": "2026-03-11"})["slots"] == []


def test_slots_start_after_now_and_within_the_working_day(client: FlaskClient) -> None:
    # The clock reads 2026-03-02 08:00Z = 13:30 in Pune; clinicians work 07:00-21:00.
    body = read(
        client,
        "portal_slots",
        branch_id=BRANCH,
        procedure_code="MRI-BRAIN",
        date="2026-03-02",
    )
    times = sorted({slot["start_at"] for slot in body["slots"]})
    assert times[0] == "2026-03-02T13:45:00+05:30"
    assert times[-1] == "2026-03-02T20:15:00+05:30"  # ends at 21:00
    assert len(body["slots"]) == len(times) * 4  # two clinicians x two rooms
    unknown = get(client, "portal_slots", branch_id=BRANCH, procedure_code="XX-1", date=DAY)
    assert (unknown.status_code, unknown.get_json()["field"]) == (404, "procedure_code")
    nowhere = get(client, "portal_slots", branch_id="branch-9", procedure_code="XX-1", date=DAY)
    assert (nowhere.status_code, nowhere.get_json()["field"]) == (404, "branch_id")


def test_free_slots_by_clinician_and_by_city(client: FlaskClient) -> None:
    slots_branch(client)  # another Pune branch, with clin-s and clin-t
    dubai_branch(client)
    one = read(
        client,
        "portal_slots",
        branch_id=SLOTS_BRANCH,
        clinician_id="clin-t",
        procedure_code="MRI-SPINE",
        date=DAY,
        step_minutes=30,
    )
    assert set(starts(one)) == {"clin-t"}
    pune = read(client, "portal_slots", city="pune", procedure_code="MRI-BRAIN", date=DAY)
    # branch-s does not price MRI-BRAIN; Dubai is another city.
    assert [b["branch_id"] for b in pune["branches"]] == [BRANCH]
    assert pune["branches"][0]["slots"]
    staff = bearer(role="staff", branches=frozenset({SLOTS_BRANCH}))
    spine = {"city": "Pune", "procedure_code": "MRI-SPINE", "date": DAY}
    assert [b["branch_id"] for b in read(client, "portal_slots", staff, **spine)["branches"]] == [
        SLOTS_BRANCH
    ]
    dubai_staff = bearer(role="staff", branches=frozenset({DUBAI}))
    refused = get(client, "portal_slots", dubai_staff, **spine)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "branch_not_allowed")
    other_tenant = get(client, "portal_slots", bearer("tenant-b"), **spine)
    assert (other_tenant.status_code, other_tenant.get_json()["error"]) == (403, "wrong_tenant")
    both = get(client, "portal_slots", branch_id=BRANCH, **spine)
    assert both.status_code == 422


def test_a_patient_reads_the_free_slots_of_their_branch(client: FlaskClient) -> None:
    params = {"branch_id": BRANCH, "procedure_code": "XR-CHEST", "date": DAY}
    patient = bearer(role="patient", subject="pat-1", branches=frozenset({BRANCH}))
    assert read(client, "portal_slots", patient, **params)["slots"]
    elsewhere = bearer(role="patient", subject="pat-1", branches=frozenset({"branch-9"}))
    refused = get(client, "portal_slots", elsewhere, **params)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "branch_not_allowed")


# --- doctors' days and the calendar ------------------------------------------------------


def test_a_doctor_s_day_lists_hours_appointments_and_blocks_in_order(
    client: FlaskClient,
) -> None:
    book(client, "apt-1", start_at="2026-03-10T10:00:00+05:30")
    book(client, "apt-2", room_id="room-2", start_at="2026-03-10T08:00:00+05:30")
    book(client, "apt-3", clinician_id="clin-2", start_at="2026-03-10T09:00:00+05:30")
    block(client, "clin-1", "b-1", "2026-03-10T12:00:00+05:30", "2026-03-10T13:00:00+05:30")
    # Overnight: cut at the branch's midnight into two days.
    block(client, "clin-1", "b-2", "2026-03-10T20:00:00+05:30", "2026-03-11T09:00:00+05:30")

    day = read(client, "doctor_schedule", clinician_id="clin-1", date=DAY)
    assert (day["branch_id"], day["timezone"], day["weekday"]) == (BRANCH, "Asia/Kolkata", 1)
    assert day["working_hours"] == [
        {"start_at": "2026-03-10T07:00:00+05:30", "end_at": "2026-03-10T21:00:00+05:30"}
    ]
    assert [(a["appointment_id"], a["start_at"], a["end_at"]) for a in day["appointments"]] == [
        ("apt-2", "2026-03-10T08:00:00+05:30", "2026-03-10T08:45:00+05:30"),
        ("apt-1", "2026-03-10T10:00:00+05:30", "2026-03-10T10:45:00+05:30"),
    ]
    first = day["appointments"][0]
    assert (first["patient_id"], first["procedure_code"], first["room_id"], first["status"]) == (
        "pat-1",
        "MRI-BRAIN",
        "room-2",
        "booked",
    )
    assert [(b["block_id"], b["start_at"], b["end_at"]) for b in day["blocks"]] == [
        ("b-1", "2026-03-10T12:00:00+05:30", "2026-03-10T13:00:00+05:30"),
        ("b-2", "2026-03-10T20:00:00+05:30", "2026-03-11T00:00:00+05:30"),
    ]
    next_day = read(client, "doctor_schedule", clinician_id="clin-1", date="2026-03-11")
    assert [(b["block_id"], b["start_at"]) for b in next_day["blocks"]] == [
        ("b-2", "2026-03-11T00:00:00+05:30")
    ]

    cancel(client, "apt-2")
    post(client, "unblock_clinician_time", {**_clinician("clin-1"), "block_id": "b-1"})
    day = read(client, "doctor_schedule", clinician_id="clin-1", date=DAY)
    assert [a["appointment_id"] for a in day["appointments"]] == ["apt-1"]
    assert [b["block_id"] for b in day["blocks"]] == ["b-2"]

    missing = get(client, "doctor_schedule", clinician_id="clin-9", date=DAY)
    assert (missing.status_code, missing.get_json()["field"]) == (404, "clinician_id")
    patient = bearer(role="patient", subject="pat-1", branches=frozenset({BRANCH}))
    refused = get(client, "doctor_schedule", patient, clinician_id="clin-1", date=DAY)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "not_own_record")
    other = bearer(role="doctor", subject="d", branches=frozenset({"branch-9"}))
    refused = get(client, "doctor_schedule", other, clinician_id="clin-1", date=DAY)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "branch_not_allowed")
    doctor = bearer(role="doctor", subject="d", branches=frozenset({BRANCH}))
    assert read(client, "doctor_schedule", doctor, clinician_id="clin-1", date=DAY)["blocks"]


def _clinician(clinician_id: str) -> dict[str, Any]:
    return {"tenant_id": TENANT, "branch_id": BRANCH, "clinician_id": clinician_id}


def test_the_calendar_filters_by_branch_clinician_and_city(client: FlaskClient) -> None:
    dubai_branch(client)
    book(client, "apt-1", start_at="2026-03-10T10:00:00+05:30")
    book(client, "apt-2", clinician_id="clin-2", start_at="2026-03-10T09:00:00+05:30")
    book(
        client,
        "apt-d",
        branch_id=DUBAI,
        clinician_id="clin-d",
        room_id="room-d",
        start_at="2026-03-10T09:00:00+04:00",
    )
    cancel(client, "apt-2")

    def ids(**params: Any) -> list[str]:
        return [a["appointment_id"] for a in read(client, "calendar", **params)["appointments"]]

    assert ids(date=DAY, branch_id=BRANCH) == ["apt-2", "apt-1"]
    assert read(client, "calendar", date=DAY, branch_id=BRANCH)["counts"] == {
        "booked": 1,
        "cancelled": 1,
    }
    assert ids(date=DAY, branch_id=BRANCH, clinician_id="clin-1") == ["apt-1"]
    assert ids(date=DAY, city="dubai") == ["apt-d"]
    assert ids(date=DAY, city="Pune", branch_id=DUBAI) == []
    assert sorted(ids(date=DAY)) == ["apt-1", "apt-2", "apt-d"]
    staff = bearer(role="staff", subject="s", branches=frozenset({BRANCH}))
    assert read(client, "calendar", staff, date=DAY, branch_id=BRANCH)["appointments"]
    refused = get(client, "calendar", staff, date=DAY, city="Pune")
    assert (refused.status_code, refused.get_json()["error"]) == (403, "branch_not_allowed")


# --- payments --------------------------------------------------------------------------


def _payments_story(client: FlaskClient) -> None:
    """pat-1: apt-1 part paid and part refunded; apt-2 cancelled late with its deposit
    half forfeited; apt-d in another currency. pat-2: apt-3 paid in full, completed."""
    dubai_branch(client)
    post(
        client,
        "set_cancellation_policy",
        {"tenant_id": TENANT, "branch_id": "*", "forfeit_within_hours": 48, "forfeit_percent": 50},
    )
    book(client, "apt-1", start_at="2026-03-10T10:00:00+05:30")
    pay(client, "apt-1", "dep-1", 100_000, kind="deposit")
    pay(client, "apt-1", "pay-1", 200_000)
    refund(client, "apt-1", "ref-1", "pay-1", 50_000)
    book(
        client,
        "apt-2",
        clinician_id="clin-2",
        procedure_code="CT-CHEST",
        modality="CT",
        start_at="2026-03-03T10:00:00+05:30",
    )
    pay(client, "apt-2", "dep-2", 100_000, kind="deposit")
    cancel(client, "apt-2")  # 20.5 hours ahead: half the deposit is kept
    refund(client, "apt-2", "ref-2", "dep-2", 30_000)
    book(
        client,
        "apt-3",
        patient_id="pat-2",
        procedure_code="XR-CHEST",
        modality="XRAY",
        start_at="2026-03-10T12:00:00+05:30",
    )
    pay(client, "apt-3", "pay-3", 60_000)
    post(client, "mark_arrived", appointment("apt-3"))
    post(client, "complete_appointment", appointment("apt-3"))
    book(
        client,
        "apt-d",
        branch_id=DUBAI,
        clinician_id="clin-d",
        room_id="room-d",
        start_at="2026-03-10T09:00:00+04:00",
    )
    pay(client, "apt-d", "pay-d", 100_000, currency="AED", branch_id=DUBAI)


def _invoice_story(client: FlaskClient) -> None:
    """apt-5 (pat-2): a deposit of 20,000 on the visit, then an invoice of 80,000 for the
    rest; 80,000 paid on it, 30,000 of that refunded, and a credit note of 10,000: the
    invoice still owes 80,000 - 10,000 - (80,000 - 30,000) = 20,000."""
    book(client, "apt-5", patient_id="pat-2", start_at="2026-03-12T10:00:00+05:30")
    pay(client, "apt-5", "dep-5", 20_000, kind="deposit")
    post(client, "mark_arrived", appointment("apt-5"))
    post(client, "complete_appointment", appointment("apt-5"))
    invoice = {"tenant_id": TENANT, "branch_id": BRANCH, "invoice_id": "inv-5"}
    money = {"currency": "INR"}
    post(
        client,
        "issue_invoice",
        invoice
        | money
        | {
            "appointment_id": "apt-5",
            "patient_id": "pat-2",
            "payer_type": "self_pay",
            "amount_minor": 80_000,
            "due_on": "2026-03-12",
        },
    )
    paid = {"payment_id": "ip-5", "amount_minor": 80_000, "mode": "card", "provider": "stripe"}
    post(client, "capture_payment", invoice | money | paid)
    back = {"refund_id": "ir-5", "payment_id": "ip-5", "amount_minor": 30_000, "reason": "x"}
    post(client, "refund_payment", invoice | money | back)
    credit = {"credit_note_id": "cn-5", "amount_minor": 10_000, "reason": "partial scan"}
    post(client, "issue_credit_note", invoice | money | credit)


def test_an_invoiced_visit_shows_what_its_invoices_still_owe(client: FlaskClient) -> None:
    _invoice_story(client)
    [row] = read(client, "payments", appointment_id="apt-5")["appointments"]
    assert row["invoices"] == ["inv-5"]
    assert (row["invoiced_minor"], row["credited_minor"], row["invoice_paid_minor"]) == (
        80_000,
        10_000,
        50_000,
    )
    # Charged: the 20,000 deposit + 80,000 invoiced - 10,000 credited; held: 20,000 +
    # 50,000; owed: what the invoice still bills, the refund without a credit note.
    assert (row["charge_minor"], row["total_paid_minor"], row["balance_minor"]) == (
        90_000,
        70_000,
        20_000,
    )
    assert (row["invoice_owed_minor"], row["status"]) == (20_000, "part_paid")
    too_much = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "invoice_id": "inv-5",
        "credit_note_id": "cn-6",
        "amount_minor": 70_001,  # 80,000 billed less 10,000 credited is 70,000
        "currency": "INR",
        "reason": "more",
    }
    response = client.post("/commands/issue_credit_note", json=too_much, headers=bearer())
    assert (response.status_code, response.get_json()["field"]) == (422, "amount_minor")


def test_payments_sum_per_appointment_patient_and_currency(client: FlaskClient) -> None:
    _payments_story(client)
    body = read(client, "payments")
    rows = {row["appointment_id"]: row for row in body["appointments"]}
    fields = (
        "price_minor",
        "paid_minor",
        "deposits_minor",
        "refunded_minor",
        "forfeited_minor",
        "net_paid_minor",
        "charge_minor",
        "balance_minor",
        "refund_due_minor",
        "status",
        "appointment_status",
    )
    assert {apt: tuple(row[f] for f in fields) for apt, row in rows.items()} == {
        "apt-1": (
            850_000,
            300_000,
            100_000,
            50_000,
            0,
            250_000,
            850_000,
            600_000,
            0,
            "part_paid",
            "booked",
        ),
        "apt-2": (
            450_000,
            100_000,
            100_000,
            30_000,
            50_000,
            70_000,
            50_000,
            0,
            20_000,
            "refund_due",
            "cancelled",
        ),
        "apt-3": (60_000, 60_000, 0, 0, 0, 60_000, 60_000, 0, 0, "paid", "completed"),
        "apt-d": (300_000, 100_000, 0, 0, 0, 100_000, 300_000, 200_000, 0, "part_paid", "booked"),
    }
    assert [p["payment_id"] for p in rows["apt-1"]["payments"]] == ["dep-1", "pay-1"]
    assert [r["refund_id"] for r in rows["apt-1"]["refunds"]] == ["ref-1"]
    assert [f["trigger"] for f in rows["apt-2"]["forfeitures"]] == ["late_cancellation"]
    [aed, inr] = body["totals"]
    assert (aed["currency"], aed["appointments"], aed["paid_minor"]) == ("AED", 1, 100_000)
    assert (inr["currency"], inr["appointments"]) == ("INR", 3)
    assert (inr["paid_minor"], inr["refunded_minor"], inr["forfeited_minor"]) == (
        460_000,
        80_000,
        50_000,
    )
    assert (inr["deposits_minor"], inr["net_paid_minor"], inr["balance_minor"]) == (
        200_000,
        380_000,
        600_000,
    )
    assert inr["refund_due_minor"] == 20_000
    per_patient = {(p["patient_id"], p["currency"]): p for p in body["by_patient"]}
    assert set(per_patient) == {("pat-1", "AED"), ("pat-1", "INR"), ("pat-2", "INR")}
    assert per_patient[("pat-1", "INR")]["paid_minor"] == 400_000
    assert per_patient[("pat-1", "INR")]["net_paid_minor"] == 320_000
    assert per_patient[("pat-2", "INR")]["balance_minor"] == 0


def test_payments_filter_by_branch_city_clinician_patient_and_appointment(
    client: FlaskClient,
) -> None:
    _payments_story(client)

    def ids(**params: Any) -> list[str]:
        return [row["appointment_id"] for row in read(client, "payments", **params)["appointments"]]

    assert ids(branch_id=BRANCH) == ["apt-2", "apt-1", "apt-3"]  # in start order
    assert ids(city="PUNE") == ["apt-2", "apt-1", "apt-3"]
    assert ids(city="Dubai") == ["apt-d"]
    assert ids(city="Nowhere") == []
    assert ids(clinician_id="clin-2") == ["apt-2"]
    assert ids(patient_id="pat-2") == ["apt-3"]
    assert ids(patient_id="pat-1", city="Pune") == ["apt-2", "apt-1"]
    assert ids(appointment_id="apt-d") == ["apt-d"]
    assert ids(appointment_id="apt-d", branch_id=BRANCH) == []
    assert ids(appointment_id="apt-1", patient_id="pat-2") == []


def test_a_patient_reads_only_their_own_payments(client: FlaskClient) -> None:
    _payments_story(client)
    patient = bearer(role="patient", subject="pat-2", branches=frozenset({BRANCH}))
    own = read(client, "payments", patient, patient_id="pat-2")
    assert [row["appointment_id"] for row in own["appointments"]] == ["apt-3"]
    for params in ({"patient_id": "pat-1"}, {}, {"branch_id": BRANCH}):
        refused = get(client, "payments", patient, **params)
        assert (refused.status_code, refused.get_json()["error"]) == (403, "not_own_record")
    refused = get(client, "payments", patient, patient_id="pat-2", branch_id=DUBAI)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "branch_not_allowed")


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, "missing_token"),
        ({"Authorization": "Bearer not.a.token"}, 401, "invalid_token"),
        (bearer(tenant_id="tenant-b"), 403, "wrong_tenant"),
        (
            bearer(role="staff", subject="s", branches=frozenset({BRANCH})),
            403,
            "branch_not_allowed",
        ),
    ],
)
def test_reads_need_a_token_for_the_tenant_and_its_branches(
    client: FlaskClient, headers: dict[str, str], status: int, error: str
) -> None:
    response = client.get("/read/payments", query_string={"tenant_id": TENANT}, headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (status, error)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tenants_never_see_each_other_s_documents(client: FlaskClient, platform: Platform) -> None:
    seed_directory(platform, "tenant-b")
    book(client, "apt-1")
    other = booking("apt-1", tenant_id="tenant-b", patient_id="pat-b")
    other.pop("duration_minutes")
    response = client.post("/commands/book_appointment", json=other, headers=bearer("tenant-b"))
    assert response.status_code == 201
    mine = read(client, "payments")["appointments"]
    assert [(row["appointment_id"], row["patient_id"]) for row in mine] == [("apt-1", "pat-1")]
    theirs = client.get(
        "/read/payments", query_string={"tenant_id": "tenant-b"}, headers=bearer("tenant-b")
    ).get_json()["appointments"]
    assert [(row["tenant_id"], row["patient_id"]) for row in theirs] == [("tenant-b", "pat-b")]
    refused = get(client, "payments", bearer(), tenant_id="tenant-b")
    assert refused.status_code == 403


# --- follow-ups --------------------------------------------------------------------------


def _follow_up(
    client: FlaskClient, follow_up_id: str, appointment_id: str, due_on: str, **fields: Any
) -> None:
    branch_id = fields.pop("branch_id", BRANCH)
    post(
        client,
        "schedule_follow_up",
        appointment(
            appointment_id,
            branch_id,
            follow_up_id=follow_up_id,
            due_on=due_on,
            procedure_code="MRI-KNEE",
            modality="MRI",
            **fields,
        ),
    )


def test_the_follow_up_queue_goes_open_booked_and_open_again(client: FlaskClient) -> None:
    dubai_branch(client)
    book(client, "apt-1", start_at="2026-03-03T10:00:00+05:30")
    post(client, "complete_appointment", appointment("apt-1"))
    _follow_up(client, "fu-1", "apt-1", "2026-04-01", clinician_id="clin-2")
    book(
        client,
        "apt-d",
        branch_id=DUBAI,
        clinician_id="clin-d",
        room_id="room-d",
        patient_id="pat-2",
        start_at="2026-03-03T10:00:00+04:00",
    )
    post(client, "mark_arrived", appointment("apt-d", DUBAI))
    _follow_up(client, "fu-2", "apt-d", "2026-03-20", branch_id=DUBAI)

    def ids(**params: Any) -> list[str]:
        return [f["follow_up_id"] for f in read(client, "follow_ups", **params)["follow_ups"]]

    assert ids() == ["fu-2", "fu-1"]  # the earliest due first
    assert ids(branch_id=BRANCH) == ["fu-1"]
    assert ids(city="dubai") == ["fu-2"]
    assert ids(clinician_id="clin-2") == ["fu-1"]
    assert ids(due_before="2026-03-25") == ["fu-2"]
    assert ids(patient_id="pat-2") == ["fu-2"]
    [fu1] = read(client, "follow_ups", branch_id=BRANCH)["follow_ups"]
    assert (fu1["patient_id"], fu1["due_on"], fu1["from_appointment_id"]) == (
        "pat-1",
        "2026-04-01",
        "apt-1",
    )

    book(
        client,
        "apt-9",
        follow_up_id="fu-1",
        follow_up_appointment_id="apt-1",
        procedure_code="MRI-KNEE",
        start_at="2026-03-31T10:00:00+05:30",
    )
    assert ids() == ["fu-2"]
    [booked] = read(client, "follow_ups", status="booked")["follow_ups"]
    assert (booked["follow_up_id"], booked["booked_appointment_id"]) == ("fu-1", "apt-9")
    assert ids(status="all") == ["fu-2", "fu-1"]

    cancel(client, "apt-9")
    assert ids() == ["fu-2", "fu-1"]
    [reopened] = read(client, "follow_ups", branch_id=BRANCH)["follow_ups"]
    assert reopened["booked_appointment_id"] is None
    assert reopened["bookings"][0]["status"] == "cancelled"

    patient = bearer(role="patient", subject="pat-1", branches=frozenset({BRANCH}))
    assert [
        f["follow_up_id"]
        for f in read(client, "follow_ups", patient, patient_id="pat-1")["follow_ups"]
    ] == ["fu-1"]
    refused = get(client, "follow_ups", patient, patient_id="pat-2")
    assert (refused.status_code, refused.get_json()["error"]) == (403, "not_own_record")


def test_a_booking_seen_before_its_follow_up_gives_the_same_document(
    client: FlaskClient, platform: Platform, tmp_path: Path
) -> None:
    book(client, "apt-1", start_at="2026-03-03T10:00:00+05:30")
    post(client, "complete_appointment", appointment("apt-1"))
    _follow_up(client, "fu-1", "apt-1", "2026-04-01")
    origin = {"follow_up_id": "fu-1", "follow_up_appointment_id": "apt-1"}
    book(client, "apt-9", **origin, start_at="2026-03-31T10:00:00+05:30")
    book(client, "apt-8", **origin, start_at="2026-03-30T10:00:00+05:30")
    cancel(client, "apt-8")
    streams: dict[str, list[EventEnvelope]] = defaultdict(list)
    for stored in platform.store.read_all(0, 10_000):
        streams[stored.envelope.stream_id].append(stored.envelope)

    def projected(order: list[str], name: str) -> list[dict[str, Any]]:
        documents = SqliteDocumentStore(tmp_path / f"{name}.sqlite")
        runner = ProjectionRunner(ReadModelsProjection(), documents, platform.store)
        for stream in order:
            for event in streams[stream]:
                runner(event)
        try:
            return documents.query("follow_ups", TENANT)
        finally:
            documents.close()

    bookings_first = ["appointment:apt-8", "appointment:apt-9", "appointment:apt-1"]
    follow_up_first = ["appointment:apt-1", "appointment:apt-9", "appointment:apt-8"]
    [early] = projected(bookings_first, "bookings-first")
    [late] = projected(follow_up_first, "follow-up-first")
    assert early == late
    assert (early["status"], early["booked_appointment_id"], early["scheduled"]) == (
        "booked",
        "apt-9",
        True,
    )
    assert early == platform.documents.get("follow_ups", TENANT, "fu-1")


def test_a_booking_naming_an_unknown_or_anothers_follow_up_is_refused(
    client: FlaskClient, platform: Platform
) -> None:
    book(client, "apt-1", start_at="2026-03-03T10:00:00+05:30")
    post(client, "complete_appointment", appointment("apt-1"))
    _follow_up(client, "fu-1", "apt-1", "2026-04-01")
    unknown = booking("apt-2", follow_up_id="fu-unknown", follow_up_appointment_id="apt-1")
    response = client.post("/commands/book_appointment", json=unknown, headers=bearer())
    assert (response.status_code, response.get_json()["error"]) == (422, "unknown_reference")
    theirs = booking(
        "apt-3", patient_id="pat-2", follow_up_id="fu-1", follow_up_appointment_id="apt-1"
    )
    response = client.post("/commands/book_appointment", json=theirs, headers=bearer())
    assert (response.status_code, response.get_json()["field"]) == (422, "follow_up_id")
    assert platform.documents.get("follow_ups", TENANT, "fu-unknown") is None


# --- replays, validation, the functions ------------------------------------------------------


def _snapshot(documents: DocumentStore, tenants: tuple[str, ...]) -> dict[str, Any]:
    return {
        f"{collection}/{tenant}": documents.query(collection, tenant)
        for collection in COLLECTIONS
        for tenant in tenants
    }


def test_replaying_every_event_twice_writes_the_same_documents(
    client: FlaskClient, platform: Platform, tmp_path: Path
) -> None:
    _payments_story(client)
    _follow_up(client, "fu-1", "apt-3", "2026-04-01")
    book(
        client,
        "apt-9",
        patient_id="pat-2",
        follow_up_id="fu-1",
        follow_up_appointment_id="apt-3",
        start_at="2026-03-31T10:00:00+05:30",
    )
    block(client, "clin-1", "b-1", "2026-03-10T20:00:00+05:30", "2026-03-11T09:00:00+05:30")
    _invoice_story(client)
    schedule = {
        "tenant_id": TENANT,
        "snapshot_id": "weekly-ops",
        "reports": ["patient-volume"],
        "frequency": "weekly",
        "formats": ["csv"],
        "recipients": ["ops@clinic.example"],
    }
    response = client.post("/commands/set_snapshot_schedule", json=schedule, headers=bearer())
    assert response.status_code == 201, response.get_json()
    tenants = (TENANT, ALL_TENANTS)  # the index of tenants with schedules is under "_all"
    live = _snapshot(platform.documents, tenants)
    assert all(live[f"{c}/{TENANT}"] or live[f"{c}/{ALL_TENANTS}"] for c in COLLECTIONS)

    runner = platform.live_runners["read_models"]
    replay(platform.store, [runner])  # over the live documents: every event is skipped
    assert _snapshot(platform.documents, tenants) == live

    platform.documents.reset_projection(runner.name, ReadModelsProjection.collections)
    assert not any(_snapshot(platform.documents, tenants).values())
    replay(platform.store, [runner])  # a rebuild from the first event
    assert _snapshot(platform.documents, tenants) == live
    platform.rebuild_projections()
    assert _snapshot(platform.documents, tenants) == live

    # Without the runner's checkpoints: every event applied twice over, in order.
    events = [stored.envelope for stored in platform.store.read_all(0, 10_000)]
    projection = ReadModelsProjection()
    twice = SqliteDocumentStore(tmp_path / "twice.sqlite")
    try:
        for _ in range(2):
            twice.transact(lambda uow: [projection.apply(uow, event) for event in events])
        assert _snapshot(twice, tenants) == live
    finally:
        twice.close()


@pytest.mark.parametrize(
    ("params", "status", "error", "field"),
    [
        ({"date": DAY, "branch_id": BRANCH, "surprise": "1"}, 422, "validation_failed", "surprise"),
        ({"date": "2026-13-01", "branch_id": BRANCH}, 422, "validation_failed", "date"),
        ({"branch_id": BRANCH}, 422, "validation_failed", "date"),
        ({"date": DAY, "branch_id": "bad branch!"}, 422, "validation_failed", "branch_id"),
        ({"date": DAY, "tenant_id": None}, 422, "validation_failed", "tenant_id"),
    ],
)
def test_bad_parameters_get_an_error_naming_them(
    client: FlaskClient, params: dict[str, Any], status: int, error: str, field: str
) -> None:
    query = {"tenant_id": TENANT, **params}
    query = {key: value for key, value in query.items() if value is not None}
    response = client.get("/read/calendar", query_string=query, headers=bearer())
    body = response.get_json()
    assert (response.status_code, body["error"], body["field"]) == (status, error, field)
    assert field in [f["field"] for f in body["fields"]]


def test_unknown_models_methods_and_repeated_parameters(client: FlaskClient) -> None:
    unknown = client.get("/read/gossip", query_string={"tenant_id": TENANT}, headers=bearer())
    assert unknown.status_code == 404
    assert "portal_slots" in unknown.get_json()["known"]
    assert client.post("/read/payments", headers=bearer()).status_code == 405
    repeated = client.get(
        f"/read/payments?tenant_id={TENANT}&branch_id=a&branch_id=b", headers=bearer()
    )
    assert (repeated.status_code, repeated.get_json()["field"]) == (400, "branch_id")
    bad_status = get(client, "follow_ups", status="closed")
    assert (bad_status.status_code, bad_status.get_json()["field"]) == (422, "status")
    bad_step = get(
        client,
        "portal_slots",
        branch_id=BRANCH,
        procedure_code="MRI-BRAIN",
        date=DAY,
        step_minutes=1,
    )
    assert (bad_step.status_code, bad_step.get_json()["field"]) == (422, "step_minutes")


def test_the_read_function_serves_the_same_models(platform: Platform) -> None:
    commands = create_app("commands", MAIN).test_client()
    body = booking("apt-1")
    body.pop("duration_minutes")
    assert commands.post("/book_appointment", json=body, headers=bearer()).status_code == 201
    reads = create_app("read", MAIN).test_client()
    response = reads.get(
        "/payments", query_string={"tenant_id": TENANT, "branch_id": BRANCH}, headers=bearer()
    )
    assert response.status_code == 200
    [row] = response.get_json()["appointments"]
    assert (row["appointment_id"], row["balance_minor"], row["status"]) == (
        "apt-1",
        850_000,
        "unpaid",
    )
    assert reads.get("/payments", query_string={"tenant_id": TENANT}).status_code == 401


def test_the_projection_function_applies_a_redelivery_once(platform: Platform) -> None:
    events = appointment_events()
    platform.store.append("t1", events[0].stream_id, 0, events)
    function = create_app("project_read_models", MAIN, "cloudevent").test_client()
    for event in [*events, *events]:
        message = encode_pubsub_message(event)
        response = function.post(
            "/",
            json={"message": message, "subscription": "projects/p/subscriptions/s"},
            headers={
                "ce-id": message.get("messageId", "m-1"),
                "ce-specversion": "1.0",
                "ce-source": "//pubsub.googleapis.com/projects/p/topics/mymedic-events",
                "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            },
        )
        assert response.status_code == 200
    [row] = platform.documents.query("payments", "t1")
    assert (row["appointment_status"], row["clinician_id"], row["date"]) == (
        "completed",
        "c2",
        "2026-02-11",
    )
