"""Stripe and Razorpay webhooks as the gateways send them: payloads shaped like their
documented examples, signed with the providers' own helpers (synthetic secrets)."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import stripe
from flask.testing import FlaskClient
from functions_framework import create_app

from mymedic.bootstrap import Platform
from mymedic.domain.envelope import EventEnvelope
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, bearer, booking

MAIN = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
STRIPE_SECRET = "whsec_test_only_0123456789abcdef"  # noqa: S105 - synthetic
RAZORPAY_SECRET = "test-only-razorpay-webhook-secret"  # noqa: S105 - synthetic
PAYMENTS_TENANT = "gateway-account"
PRICE = 850_000  # MRI-BRAIN in the test price list, INR paise
LINK = {
    "mymedic_tenant": TENANT,
    "mymedic_branch": BRANCH,
    "mymedic_appointment": "apt-1",
    "mymedic_payment_id": "pay-apt-1",
}


@pytest.fixture
def client(platform: Platform) -> FlaskClient:
    platform.settings = platform.settings.model_copy(
        update={
            "stripe_webhook_secret": stripe_secret(STRIPE_SECRET),
            "razorpay_webhook_secret": stripe_secret(RAZORPAY_SECRET),
            "payments_tenant_id": PAYMENTS_TENANT,
        }
    )
    app = create_server().test_client()
    response = app.post("/commands/book_appointment", json=booking(), headers=bearer())
    assert response.status_code == 201, response.get_json()
    return app


def stripe_secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


def events(platform: Platform, tenant: str | None = None) -> list[EventEnvelope]:
    return [
        stored.envelope
        for stored in platform.store.read_all(limit=100_000)
        if tenant is None or stored.envelope.tenant_id == tenant
    ]


def of_type(platform: Platform, event_type: str) -> list[EventEnvelope]:
    return [event for event in events(platform) if event.event_type == event_type]


# --- Stripe ---------------------------------------------------------------------------


def stripe_event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1") -> bytes:
    return orjson.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": 1772438400,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    )


def intent(amount: int = 200_000, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "inr",
        "latest_charge": "ch_3MtwBwLkdIwHu7ix28a3tqPa",
        "metadata": LINK if metadata is None else metadata,
        "payment_method_types": ["card"],
        "status": "succeeded",
    }


def post_stripe(
    client: FlaskClient,
    body: bytes,
    *,
    secret: str = STRIPE_SECRET,
    timestamp: int | None = None,
    signed: bytes | None = None,
) -> Any:
    header = stripe.WebhookSignature.generate_signature_header(
        (signed if signed is not None else body).decode(), secret, timestamp or int(time.time())
    )
    return client.post(
        "/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def test_a_stripe_payment_is_recorded_and_taken_on_its_appointment(
    client: FlaskClient, platform: Platform
) -> None:
    response = post_stripe(client, stripe_event("payment_intent.succeeded", intent()))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == "recorded"
    [fact] = of_type(platform, "gateway.payment_captured")
    assert fact.stream_id == "gateway:stripe:pi_3MtwBwLkdIwHu7ix28a3tqPa"
    assert fact.tenant_id == TENANT and fact.branch_id == BRANCH
    assert fact.payload["applied_to"] == ["appointment:apt-1"]
    assert fact.payload["amount_minor"] == 200_000 and fact.payload["currency"] == "INR"
    [taken] = of_type(platform, "appointment.payment_taken")
    assert taken.stream_id == "appointment:apt-1"
    assert taken.payload["payment_id"] == "pay-apt-1"
    assert taken.payload["amount_minor"] == 200_000
    assert taken.payload["provider"] == "stripe" and taken.payload["mode"] == "card"
    [indexed] = of_type(platform, "gateway.payment_indexed")
    assert indexed.tenant_id == PAYMENTS_TENANT and indexed.payload["tenant_id"] == TENANT
    assert of_type(platform, "payment.unmatched") == []


def test_a_redelivered_stripe_event_changes_nothing(
    client: FlaskClient, platform: Platform
) -> None:
    body = stripe_event("payment_intent.succeeded", intent())
    assert post_stripe(client, body).status_code == 200
    before = len(events(platform))
    again = post_stripe(client, body)
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "duplicate"
    assert len(events(platform)) == before


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "stale", "missing"])
def test_a_bad_stripe_signature_is_refused_and_writes_nothing(
    client: FlaskClient, platform: Platform, case: str
) -> None:
    body = stripe_event("payment_intent.succeeded", intent())
    before = len(events(platform))
    if case == "tampered":
        forged = stripe_event("payment_intent.succeeded", intent(amount=1))
        response = post_stripe(client, forged, signed=body)
    elif case == "wrong_secret":
        response = post_stripe(client, body, secret="whsec_someone_else")  # noqa: S106 - synthetic
    elif case == "stale":
        response = post_stripe(client, body, timestamp=int(time.time()) - 301)
    else:
        response = client.post("/webhooks/stripe", data=body)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert len(events(platform)) == before


def test_a_stripe_refund_without_metadata_finds_its_payment(
    client: FlaskClient, platform: Platform
) -> None:
    post_stripe(client, stripe_event("payment_intent.succeeded", intent()))
    refund = {
        "id": "re_1Nispe2eZvKYlo2Cd31jOCgZ",
        "object": "refund",
        "amount": 50_000,
        "charge": "ch_3MtwBwLkdIwHu7ix28a3tqPa",
        "currency": "inr",
        "metadata": {},
        "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "status": "succeeded",
    }
    response = post_stripe(client, stripe_event("refund.created", refund, "evt_2"))
    assert response.get_json()["applied"] == 1
    [refunded] = of_type(platform, "appointment.payment_refunded")
    assert refunded.payload["refund_id"] == "re_1Nispe2eZvKYlo2Cd31jOCgZ"
    assert refunded.payload["payment_id"] == "pay-apt-1"
    assert refunded.payload["amount_minor"] == 50_000
    # The same refund again, listed in charge.refunded: recorded, not refunded twice.
    charge = {
        "id": "ch_3MtwBwLkdIwHu7ix28a3tqPa",
        "object": "charge",
        "amount": 200_000,
        "amount_refunded": 50_000,
        "currency": "inr",
        "metadata": {},
        "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "refunded": False,
        "refunds": {"object": "list", "data": [refund]},
    }
    response = post_stripe(client, stripe_event("charge.refunded", charge, "evt_3"))
    assert response.status_code == 200
    assert len(of_type(platform, "gateway.refund_recorded")) == 2
    assert len(of_type(platform, "appointment.payment_refunded")) == 1


def test_a_capture_above_the_price_is_recorded_and_flagged(
    client: FlaskClient, platform: Platform
) -> None:
    response = post_stripe(client, stripe_event("payment_intent.succeeded", intent(PRICE + 1)))
    assert response.status_code == 200
    assert response.get_json()["unmatched"] == 1
    [fact] = of_type(platform, "gateway.payment_captured")
    assert fact.payload["applied_to"] == []
    [flag] = of_type(platform, "payment.unmatched")
    assert flag.stream_id == fact.stream_id
    assert flag.payload["target_stream"] == "appointment:apt-1"
    assert "exceeds the outstanding" in flag.payload["reason"]
    assert of_type(platform, "appointment.payment_taken") == []


def test_an_unlinked_payment_is_recorded_as_unmatched(
    client: FlaskClient, platform: Platform
) -> None:
    response = post_stripe(client, stripe_event("payment_intent.succeeded", intent(metadata={})))
    assert response.status_code == 200
    [fact] = of_type(platform, "gateway.payment_captured")
    assert fact.tenant_id == PAYMENTS_TENANT
    [flag] = of_type(platform, "payment.unmatched")
    assert "mymedic_tenant" in flag.payload["reason"]
    assert flag.payload["amount_minor"] == 200_000
    assert of_type(platform, "appointment.payment_taken") == []


def test_an_unknown_appointment_is_flagged(client: FlaskClient, platform: Platform) -> None:
    metadata = {**LINK, "mymedic_appointment": "apt-404"}
    post_stripe(client, stripe_event("payment_intent.succeeded", intent(metadata=metadata)))
    [flag] = of_type(platform, "payment.unmatched")
    assert flag.payload["target_stream"] == "appointment:apt-404"


def test_a_stripe_failure_dispute_and_payout(client: FlaskClient, platform: Platform) -> None:
    failed = {
        **intent(),
        "status": "requires_payment_method",
        "amount_received": 0,
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
    }
    post_stripe(client, stripe_event("payment_intent.payment_failed", failed, "evt_f"))
    [failure] = of_type(platform, "gateway.payment_failed")
    assert failure.payload["failure_code"] == "insufficient_funds"
    assert failure.payload["appointment_id"] == "apt-1"

    post_stripe(client, stripe_event("payment_intent.succeeded", intent(), "evt_s"))
    dispute = {
        "id": "dp_1MtJUT2eZvKYlo2CNaw2HvEv",
        "object": "dispute",
        "amount": 200_000,
        "charge": "ch_3MtwBwLkdIwHu7ix28a3tqPa",
        "currency": "inr",
        "metadata": {},
        "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    post_stripe(client, stripe_event("charge.dispute.created", dispute, "evt_d1"))
    assert of_type(platform, "appointment.payment_refunded") == []
    lost = {**dispute, "status": "lost"}
    post_stripe(client, stripe_event("charge.dispute.closed", lost, "evt_d2"))
    phases = [d.payload["phase"] for d in of_type(platform, "gateway.dispute_recorded")]
    assert phases == ["opened", "lost"]
    [reversal] = of_type(platform, "appointment.payment_refunded")
    assert reversal.payload["refund_id"] == "dp_1MtJUT2eZvKYlo2CNaw2HvEv"
    assert reversal.payload["reason"] == "stripe chargeback"

    payout = {
        "id": "po_1OaFDbEcg9tTZuTgNYmX0PKB",
        "object": "payout",
        "amount": 1_150_000,
        "arrival_date": 1772524800,
        "currency": "inr",
        "metadata": {},
        "status": "paid",
    }
    post_stripe(client, stripe_event("payout.paid", payout, "evt_p"))
    [settled] = of_type(platform, "gateway.settlement_recorded")
    assert settled.stream_id == "settlement:stripe:po_1OaFDbEcg9tTZuTgNYmX0PKB"
    assert settled.tenant_id == PAYMENTS_TENANT
    assert (settled.payload["amount_minor"], settled.payload["currency"]) == (1_150_000, "INR")


def test_an_unfollowed_stripe_event_is_acknowledged(
    client: FlaskClient, platform: Platform
) -> None:
    before = len(events(platform))
    body = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    response = post_stripe(client, body)
    assert (response.status_code, response.get_json()["outcome"]) == (200, "ignored")
    assert len(events(platform)) == before


def test_an_invoice_named_in_the_metadata_is_paid(client: FlaskClient, platform: Platform) -> None:
    invoice = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "invoice_id": "inv-1",
        "appointment_id": "apt-1",
        "patient_id": "pat-1",
        "payer_type": "self_pay",
        "amount_minor": PRICE,
        "currency": "INR",
        "due_on": "2026-03-10",
    }
    response = client.post("/commands/issue_invoice", json=invoice, headers=bearer())
    assert response.status_code == 201, response.get_json()
    metadata = {**LINK, "mymedic_invoice": "inv-1"}
    post_stripe(client, stripe_event("payment_intent.succeeded", intent(metadata=metadata)))
    [captured] = of_type(platform, "payment.captured")
    assert captured.stream_id == "invoice:inv-1"
    assert captured.payload["amount_minor"] == 200_000
    [fact] = of_type(platform, "gateway.payment_captured")
    # Applied once, to the invoice (which knows its appointment), never also to the visit.
    assert fact.payload["applied_to"] == ["invoice:inv-1"]
    assert not of_type(platform, "appointment.payment_taken")


def test_the_stripe_function_verifies_and_records(platform: Platform) -> None:
    platform.settings = platform.settings.model_copy(
        update={"stripe_webhook_secret": stripe_secret(STRIPE_SECRET)}
    )
    function = create_app("stripe_webhook", MAIN).test_client()
    body = stripe_event("payment_intent.succeeded", intent(metadata={}))
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET)
    response = function.post("/", data=body, headers={"Stripe-Signature": header})
    assert response.status_code == 200, response.get_json()
    assert of_type(platform, "gateway.payment_captured")
    assert function.post("/", data=body).status_code == 401


# --- Razorpay -------------------------------------------------------------------------


def razorpay_event(event: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "entity": "event",
            "account_id": "acc_BFQ7uQEaa7j2z7",
            "event": event,
            "contains": list(payload),
            "payload": payload,
            "created_at": 1772438400,
        }
    )


def rzp_payment(status: str = "captured", amount: int = 200_000, **extra: Any) -> dict[str, Any]:
    entity = {
        "id": "pay_DESlfW9H8K9uqM",
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": status,
        "order_id": "order_DESlLckIVRkHWj",
        "method": "upi",
        "captured": status == "captured",
        "notes": LINK,
        "fee": 4_720,
        "tax": 720,
        "error_code": None,
        "created_at": 1772438390,
    }
    entity.update(extra)
    return {"payment": {"entity": entity}}


def post_razorpay(
    client: FlaskClient,
    body: bytes,
    event_id: str | None,
    *,
    secret: str = RAZORPAY_SECRET,
    signed: bytes | None = None,
) -> Any:
    signature = hmac.new(secret.encode(), signed or body, hashlib.sha256).hexdigest()
    headers = {"X-Razorpay-Signature": signature, "Content-Type": "application/json"}
    if event_id is not None:
        headers["X-Razorpay-Event-Id"] = event_id
    return client.post("/webhooks/razorpay", data=body, headers=headers)


def test_a_razorpay_capture_with_fee_and_tax_is_taken(
    client: FlaskClient, platform: Platform
) -> None:
    body = razorpay_event("payment.captured", rzp_payment())
    response = post_razorpay(client, body, "JKbnl7wZt5LgXY")
    assert response.status_code == 200, response.get_json()
    [fact] = of_type(platform, "gateway.payment_captured")
    assert fact.stream_id == "gateway:razorpay:pay_DESlfW9H8K9uqM"
    assert (fact.payload["fee_minor"], fact.payload["tax_minor"]) == (4_720, 720)
    assert fact.payload["method"] == "upi"
    [taken] = of_type(platform, "appointment.payment_taken")
    assert (taken.payload["provider"], taken.payload["mode"]) == ("razorpay", "upi")
    # Razorpay retries for 24 h: the same event id changes nothing.
    before = len(events(platform))
    again = post_razorpay(client, body, "JKbnl7wZt5LgXY")
    assert again.get_json()["outcome"] == "duplicate"
    assert len(events(platform)) == before


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "missing"])
def test_a_bad_razorpay_signature_is_refused(
    client: FlaskClient, platform: Platform, case: str
) -> None:
    body = razorpay_event("payment.captured", rzp_payment())
    before = len(events(platform))
    if case == "tampered":
        forged = razorpay_event("payment.captured", rzp_payment(amount=1))
        response = post_razorpay(client, forged, "e1", signed=body)
    elif case == "wrong_secret":
        response = post_razorpay(client, body, "e1", secret="not-the-secret")  # noqa: S106
    else:
        response = client.post("/webhooks/razorpay", data=body)
    assert response.status_code == 401
    assert len(events(platform)) == before


def test_razorpay_refund_failure_dispute_and_settlement(
    client: FlaskClient, platform: Platform
) -> None:
    post_razorpay(client, razorpay_event("payment.captured", rzp_payment()), "e-cap")
    refund = {
        "refund": {
            "entity": {
                "id": "rfnd_FP8QHiV938haTz",
                "entity": "refund",
                "amount": 50_000,
                "currency": "INR",
                "payment_id": "pay_DESlfW9H8K9uqM",
                "notes": [],
                "status": "processed",
                "created_at": 1772438500,
            }
        },
        **rzp_payment(),
    }
    post_razorpay(client, razorpay_event("refund.created", refund), "e-rc")
    post_razorpay(client, razorpay_event("refund.processed", refund), "e-rp")
    assert [r.payload["status"] for r in of_type(platform, "gateway.refund_recorded")] == [
        "processed",
        "processed",
    ]
    [refunded] = of_type(platform, "appointment.payment_refunded")
    assert (refunded.payload["refund_id"], refunded.payload["amount_minor"]) == (
        "rfnd_FP8QHiV938haTz",
        50_000,
    )

    failed = rzp_payment("failed", id="pay_FailedPay0001", error_code="BAD_REQUEST_ERROR")
    post_razorpay(client, razorpay_event("payment.failed", failed), "e-fail")
    [failure] = of_type(platform, "gateway.payment_failed")
    assert failure.payload["failure_code"] == "BAD_REQUEST_ERROR"

    dispute = {
        "dispute": {
            "entity": {
                "id": "disp_Esz7KAitoYM7PJ",
                "entity": "dispute",
                "payment_id": "pay_DESlfW9H8K9uqM",
                "amount": 150_000,
                "currency": "INR",
                "amount_deducted": 150_000,
                "reason_code": "chargeback",
                "status": "lost",
                "phase": "chargeback",
                "created_at": 1772438600,
            }
        },
        **rzp_payment(),
    }
    post_razorpay(client, razorpay_event("payment.dispute.lost", dispute), "e-dl")
    reversals = of_type(platform, "appointment.payment_refunded")
    assert [r.payload["refund_id"] for r in reversals] == [
        "rfnd_FP8QHiV938haTz",
        "disp_Esz7KAitoYM7PJ",
    ]

    settlement = {
        "settlement": {
            "entity": {
                "id": "setl_DGlQ1Rj8os78Ec",
                "entity": "settlement",
                "amount": 9_973_635,
                "status": "processed",
                "fees": 471,
                "tax": 72,
                "utr": "1568176960vxp0rj",
                "created_at": 1772524800,
            }
        }
    }
    post_razorpay(client, razorpay_event("settlement.processed", settlement), "e-set")
    [settled] = of_type(platform, "gateway.settlement_recorded")
    assert settled.stream_id == "settlement:razorpay:setl_DGlQ1Rj8os78Ec"
    assert (settled.payload["fee_minor"], settled.payload["tax_minor"]) == (471, 72)
    assert settled.payload["bank_reference"] == "1568176960vxp0rj"
    assert of_type(platform, "payment.unmatched") == []


def test_a_refund_above_the_refundable_is_flagged_not_lost(
    client: FlaskClient, platform: Platform
) -> None:
    post_razorpay(client, razorpay_event("payment.captured", rzp_payment()), "e-cap")
    refund = {
        "refund": {
            "entity": {
                "id": "rfnd_TooMuch000001",
                "amount": 300_000,
                "currency": "INR",
                "payment_id": "pay_DESlfW9H8K9uqM",
                "notes": [],
                "status": "processed",
            }
        },
        **rzp_payment(),
    }
    response = post_razorpay(client, razorpay_event("refund.processed", refund), "e-rp")
    assert response.get_json()["unmatched"] == 1
    [fact] = of_type(platform, "gateway.refund_recorded")
    assert fact.payload["applied_to"] == []
    [flag] = of_type(platform, "payment.unmatched")
    assert "exceeds the refundable" in flag.payload["reason"]
    assert of_type(platform, "appointment.payment_refunded") == []


def test_a_razorpay_event_without_an_id_header_is_deduplicated_by_its_body(
    client: FlaskClient, platform: Platform
) -> None:
    body = razorpay_event("payment.captured", rzp_payment())
    assert post_razorpay(client, body, None).get_json()["outcome"] == "recorded"
    assert post_razorpay(client, body, None).get_json()["outcome"] == "duplicate"


def test_an_unconfigured_secret_answers_503(platform: Platform) -> None:
    app = create_server().test_client()
    body = razorpay_event("payment.captured", rzp_payment())
    assert post_razorpay(app, body, "e1").status_code == 503
    assert app.post("/webhooks/stripe", data=b"{}").status_code == 503


# --- the gateway confirming what we recorded first ---------------------------------------


def _take_at_console(client: FlaskClient, amount: int, reference: str) -> None:
    body = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "appointment_id": "apt-1",
        "payment_id": "pay-apt-1",
        "kind": "payment",
        "amount_minor": amount,
        "currency": "INR",
        "mode": "upi",
        "provider": "razorpay",
        "provider_reference": reference,
    }
    response = client.post("/commands/take_payment", json=body, headers=bearer())
    assert response.status_code == 201, response.get_json()


def test_a_capture_of_a_payment_keyed_at_the_console_is_a_match_not_a_second_payment(
    client: FlaskClient, platform: Platform
) -> None:
    _take_at_console(client, 200_000, "pay_DESlfW9H8K9uqM")
    response = post_razorpay(client, razorpay_event("payment.captured", rzp_payment()), "c1")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["applied"] == 0
    assert len(of_type(platform, "appointment.payment_taken")) == 1
    assert of_type(platform, "payment.unmatched") == []


def test_a_capture_of_a_console_payment_with_another_amount_is_flagged(
    client: FlaskClient, platform: Platform
) -> None:
    _take_at_console(client, 150_000, "pay_DESlfW9H8K9uqM")
    post_razorpay(client, razorpay_event("payment.captured", rzp_payment()), "c1")
    assert len(of_type(platform, "appointment.payment_taken")) == 1
    [flag] = of_type(platform, "payment.unmatched")
    assert "already recorded" in flag.payload["reason"]


def _refund_entity(notes: dict[str, str] | list[Any]) -> dict[str, Any]:
    return {
        "refund": {
            "entity": {
                "id": "rfnd_FP8QHiV938haTz",
                "entity": "refund",
                "amount": 50_000,
                "currency": "INR",
                "payment_id": "pay_DESlfW9H8K9uqM",
                "notes": notes,
                "status": "processed",
                "created_at": 1772438500,
            }
        }
    }


def test_the_gateway_refund_of_a_refund_we_recorded_is_matched_not_applied_twice(
    client: FlaskClient, platform: Platform
) -> None:
    post_razorpay(client, razorpay_event("payment.captured", rzp_payment()), "c1")
    body = {
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "appointment_id": "apt-1",
        "refund_id": "rfd-1",
        "payment_id": "pay-apt-1",
        "amount_minor": 50_000,
        "currency": "INR",
        "reason": "patient asked",
    }
    response = client.post("/commands/refund_appointment_payment", json=body, headers=bearer())
    assert response.status_code == 201, response.get_json()
    refund = _refund_entity({"mymedic_refund_id": "rfd-1"})
    response = post_razorpay(client, razorpay_event("refund.processed", refund), "r1")
    assert response.status_code == 200, response.get_json()
    [refunded] = of_type(platform, "appointment.payment_refunded")
    assert refunded.payload["refund_id"] == "rfd-1"
    [fact] = of_type(platform, "gateway.refund_recorded")
    assert fact.payload["refund_id"] == "rfd-1" and fact.payload["applied_to"] == []
    assert of_type(platform, "payment.unmatched") == []


def test_a_refund_made_at_the_gateway_is_applied_under_its_own_id(
    client: FlaskClient, platform: Platform
) -> None:
    post_razorpay(client, razorpay_event("payment.captured", rzp_payment()), "c1")
    refund = _refund_entity([])
    response = post_razorpay(client, razorpay_event("refund.processed", refund), "r1")
    assert response.get_json()["applied"] == 1
    [refunded] = of_type(platform, "appointment.payment_refunded")
    assert refunded.payload["refund_id"] == "rfnd_FP8QHiV938haTz"
    [fact] = of_type(platform, "gateway.refund_recorded")
    assert fact.payload["refund_id"] is None
