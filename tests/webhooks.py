"""Gateway webhooks as Stripe and Razorpay send them, signed with their own schemes, for
the tests that drive the HTTP handler (synthetic secrets only)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson
import stripe
from flask.testing import FlaskClient


def stripe_body(event_id: str, kind: str, obj: dict[str, Any], created: int) -> bytes:
    return orjson.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": created,
            "data": {"object": obj},
            "livemode": False,
            "type": kind,
        }
    )


def send_stripe(client: FlaskClient, secret: str, body: bytes) -> dict[str, Any]:
    """POST a Stripe event signed now (Stripe's own helper); its 200 answer."""
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, int(time.time())
    )
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    response = client.post("/webhooks/stripe", data=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def razorpay_body(kind: str, payload: dict[str, Any], created_at: int) -> bytes:
    return orjson.dumps(
        {
            "entity": "event",
            "account_id": "acc_Synthetic0001",
            "event": kind,
            "contains": list(payload),
            "payload": payload,
            "created_at": created_at,
        }
    )


def send_razorpay(
    client: FlaskClient, secret: str, body: bytes, event_id: str | None
) -> dict[str, Any]:
    """POST a Razorpay event signed as Razorpay signs it; its 200 answer."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Razorpay-Signature": signature, "Content-Type": "application/json"}
    if event_id is not None:
        headers["X-Razorpay-Event-Id"] = event_id
    response = client.post("/webhooks/razorpay", data=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer
