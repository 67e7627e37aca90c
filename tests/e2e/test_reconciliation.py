"""A reconciliation day worked out by hand, through HTTP commands and signed Razorpay
webhooks on the local platform, asserted to the paisa. Branch ``branch-1`` (Pune, INR,
+05:30) of ``tenant-a``; all synthetic.

Day 1, 2025-03-03 (each appointment booked on 2025-03-01):

- a1 MRI-BRAIN 850_000 paid by UPI (pay_A, fee 20_060 of which tax 3_060); two partial refunds
  100_000 and 50_000;
- a2 CT-CHEST 450_000 by card (pay_B, fee 10_620 of which tax 1_620), charged back (lost dispute);
- a3 MRI-KNEE 700_000: 200_000 paid in cash at the desk;
- a4 deposit 300_000 (pay_D, fee 7_080 of which tax 1_080), cancelled 7 h ahead: 50% forfeited;
- a5 XR-CHEST 60_000 keyed at the console as a card payment (pay_GHOST) the gateway
  never captured;
- pay_X 120_000 (fee 2_832 of which tax 432) captured with no appointment: not linked to us.

Day 2, 2025-03-04: a6 CT-CHEST 450_000 (pay_E, fee 10_620 of which tax 1_620). That evening
settlement setl_1 pays out pay_A, pay_D (day 1) and pay_E (day 2): 829_940 + 292_920 +
439_380 = 1_562_240. Judged on 2025-03-10 (3 days allowed): pay_B and pay_X unsettled.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from mymedic.app.reconcile import RECONCILIATION, run_day, write
from mymedic.bootstrap import Platform
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking

SECRET = "test-only-razorpay-webhook-secret"  # noqa: S105 - synthetic
PAYMENTS_TENANT = "gateway-account"
D1, D2 = date(2025, 3, 3), date(2025, 3, 4)
AS_OF = date(2025, 3, 10)


def _at(local: str) -> str:
    return f"{local}+05:30"


def _unix(local: str) -> int:
    return int(datetime.fromisoformat(_at(local)).timestamp())


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    platform.settings = platform.settings.model_copy(
        update={"razorpay_webhook_secret": SecretStr(SECRET), "payments_tenant_id": PAYMENTS_TENANT}
    )
    return create_server().test_client()


def _send(client: FlaskClient, name: str, body: dict[str, Any]) -> None:
    response = client.post(
        f"/commands/{name}", json={"tenant_id": TENANT, **body}, headers=bearer()
    )
    assert response.status_code == 201, (name, response.get_json())


def _book(client: FlaskClient, apt: str, procedure: str, modality: str, start: str) -> None:
    body = booking(
        apt,
        patient_id=f"pat-{apt}",
        procedure_code=procedure,
        modality=modality,
        start_at=_at(start),
        occurred_at=_at("2025-03-01T09:00:00"),
    )
    del body["duration_minutes"]
    _send(client, "book_appointment", body)


def _take(
    client: FlaskClient,
    apt: str,
    payment: str,
    amount: int,
    mode: str,
    at: str,
    provider: str,
    reference: str | None = None,
) -> None:
    body = {
        "branch_id": BRANCH,
        "appointment_id": apt,
        "payment_id": payment,
        "kind": "payment",
        "amount_minor": amount,
        "currency": "INR",
        "mode": mode,
        "provider": provider,
        "provider_reference": reference,
        "occurred_at": _at(at),
    }
    _send(client, "take_payment", body)


def _post(client: FlaskClient, event: str, payload: dict[str, Any], at: str, event_id: str) -> None:
    body = orjson.dumps(
        {
            "entity": "event",
            "account_id": "acc_BFQ7uQEaa7j2z7",
            "event": event,
            "contains": list(payload),
            "payload": payload,
            "created_at": _unix(at),
        }
    )
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-Razorpay-Signature": signature,
        "X-Razorpay-Event-Id": event_id,
        "Content-Type": "application/json",
    }
    response = client.post("/webhooks/razorpay", data=body, headers=headers)
    assert response.status_code == 200, response.get_json()


def _payment(
    ref: str,
    amount: int,
    fee: int,
    tax: int,
    apt: str | None,
    kind: str = "payment",
    method: str = "upi",
) -> dict[str, Any]:
    notes = {"mymedic_tenant": TENANT, "mymedic_branch": BRANCH, "mymedic_kind": kind}
    if apt is not None:
        notes.update(mymedic_appointment=apt, mymedic_payment_id=f"pay-{apt}")
    entity = {
        "id": ref,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": "captured",
        "method": method,
        "captured": True,
        "notes": notes,
        "fee": fee,
        "tax": tax,
        "created_at": 1740000000,
    }
    return {"payment": {"entity": entity}}


def _capture(
    client: FlaskClient,
    ref: str,
    amount: int,
    fee: int,
    tax: int,
    apt: str | None,
    at: str,
    **kw: str,
) -> dict[str, Any]:
    payment = _payment(ref, amount, fee, tax, apt, **kw)
    _post(client, "payment.captured", payment, at, f"cap-{ref}")
    return payment


def _refund(client: FlaskClient, payment: dict[str, Any], ref: str, amount: int, at: str) -> None:
    pay = payment["payment"]["entity"]["id"]
    entity = {
        "id": ref,
        "entity": "refund",
        "amount": amount,
        "currency": "INR",
        "payment_id": pay,
        "notes": [],
        "status": "processed",
    }
    _post(client, "refund.processed", {"refund": {"entity": entity}, **payment}, at, f"rf-{ref}")


def _scenario(client: FlaskClient) -> None:
    policy = {"branch_id": "*", "forfeit_within_hours": 24, "forfeit_percent": 50}
    _send(client, "set_cancellation_policy", {**policy, "occurred_at": _at("2025-03-01T08:00:00")})
    _book(client, "a1", "MRI-BRAIN", "MRI", "2025-03-05T09:00:00")
    _book(client, "a2", "CT-CHEST", "CT", "2025-03-05T10:00:00")
    _book(client, "a3", "MRI-KNEE", "MRI", "2025-03-05T11:00:00")
    _book(client, "a4", "MRI-BRAIN", "MRI", "2025-03-03T20:00:00")
    _book(client, "a5", "XR-CHEST", "XRAY", "2025-03-05T12:00:00")
    _book(client, "a6", "CT-CHEST", "CT", "2025-03-05T13:00:00")
    # Day 1
    deposit = _capture(
        client, "pay_D", 300_000, 7_080, 1_080, "a4", "2025-03-03T09:00:00", kind="deposit"
    )
    assert deposit
    pay_a = _capture(client, "pay_A", 850_000, 20_060, 3_060, "a1", "2025-03-03T10:00:00")
    pay_b = _capture(
        client, "pay_B", 450_000, 10_620, 1_620, "a2", "2025-03-03T11:00:00", method="card"
    )
    _take(client, "a3", "cash-a3", 200_000, "cash", "2025-03-03T12:00:00", "cash")
    cancel = {
        "branch_id": BRANCH,
        "appointment_id": "a4",
        "reason": "travel",
        "occurred_at": _at("2025-03-03T13:00:00"),
    }
    _send(client, "cancel_appointment", cancel)
    _capture(client, "pay_X", 120_000, 2_832, 432, None, "2025-03-03T14:00:00")
    _refund(client, pay_a, "rfnd_A1", 100_000, "2025-03-03T15:00:00")
    _refund(client, pay_a, "rfnd_A2", 50_000, "2025-03-03T16:00:00")
    _take(client, "a5", "card-a5", 60_000, "card", "2025-03-03T17:00:00", "console", "pay_GHOST")
    dispute = {
        "id": "disp_B",
        "entity": "dispute",
        "payment_id": "pay_B",
        "amount": 450_000,
        "currency": "INR",
        "reason_code": "chargeback",
        "status": "lost",
    }
    _post(
        client,
        "payment.dispute.lost",
        {"dispute": {"entity": dispute}, **pay_b},
        "2025-03-03T18:00:00",
        "dl-B",
    )
    # Day 2
    _capture(client, "pay_E", 450_000, 10_620, 1_620, "a6", "2025-03-04T10:00:00")
    settlement = {
        "id": "setl_1",
        "entity": "settlement",
        "amount": 1_562_240,
        "status": "processed",
        "fees": 37_760,
        "tax": 5_760,
        "utr": "UTR0000000001",
        "payment_ids": ["pay_A", "pay_D", "pay_E"],
    }
    _post(
        client,
        "settlement.processed",
        {"settlement": {"entity": settlement}},
        "2025-03-04T18:00:00",
        "set-1",
    )


def _figures(doc: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in doc.items() if k.endswith("_minor")}


def test_a_hand_computed_day_is_reconciled_to_the_paisa(
    client: FlaskClient, platform: Platform
) -> None:
    _scenario(client)
    [day1] = run_day(platform.store, D1, as_of=AS_OF, tenant=TENANT)
    assert (day1.branch_id, day1.currency) == (BRANCH, "INR")
    assert _figures(day1.to_document()) == {
        # 850_000 + 450_000 + 200_000 + 300_000 + 60_000 - 150_000 - 450_000
        "expected_minor": 1_260_000,
        "captured_minor": 1_720_000,  # pay_A, pay_B, pay_D, pay_X
        "settled_minor": 1_122_860,  # pay_A 829_940 + pay_D 292_920
        "fees_minor": 40_592,
        "tax_minor": 6_192,
        "cash_minor": 200_000,
        "deposits_held_minor": 150_000,  # 300_000 taken - 150_000 forfeited
        "forfeitures_minor": 150_000,
        "refunds_minor": 150_000,
        "reversals_minor": 450_000,
        "outstanding_minor": 0,
        "awaiting_settlement_minor": 0,
    }
    assert [(i.side, i.reason, i.reference, i.amount_minor) for i in day1.unmatched] == [
        ("gateway", "not_linked", "pay_X", 120_000),
        ("gateway", "not_settled", "pay_B", 439_380),
        ("gateway", "not_settled", "pay_X", 117_168),
        ("ours", "no_gateway_capture", "card-a5", 60_000),
    ]

    [day2] = run_day(platform.store, D2, as_of=AS_OF, tenant=TENANT)
    assert _figures(day2.to_document()) | {} == {
        **dict.fromkeys(_figures(day2.to_document()), 0),
        "expected_minor": 450_000,
        "captured_minor": 450_000,
        "settled_minor": 439_380,
        "fees_minor": 10_620,
        "tax_minor": 1_620,
    }
    assert day2.unmatched == ()


def test_rerunning_the_day_replaces_its_documents(client: FlaskClient, platform: Platform) -> None:
    _scenario(client)
    for _ in range(2):
        results = run_day(platform.store, D1, as_of=AS_OF, tenant=TENANT)
        write(platform.documents, results, D1, [TENANT])
    docs = platform.documents.query(RECONCILIATION, TENANT, {"day": "2025-03-03"})
    assert [d["branch_id"] for d in docs] == [BRANCH]
    assert docs[0]["expected_minor"] == 1_260_000
    assert len(docs[0]["unmatched"]) == 4
