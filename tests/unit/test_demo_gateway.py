"""The demo's gateway traffic is what Razorpay would send: signed, parseable, settled."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from mymedic.demo.gateway import attach_gateway, razorpay_fee
from mymedic.demo.generator import generate
from mymedic.integrations.payments import razorpay_webhook

SECRET = "test-only-demo-secret"  # noqa: S105 - synthetic


def test_razorpay_s_fee_is_two_percent_plus_gst_on_it() -> None:
    assert razorpay_fee(100_000) == (2_360, 360)


def test_the_demo_s_gateway_traffic_is_signed_parseable_and_settles_positive_amounts() -> None:
    commands = generate(seed=3, appointments=200)
    traffic = attach_gateway(commands, seed=3, now=datetime(2027, 1, 1, tzinfo=UTC))
    for command in commands:
        if command.name in ("take_payment", "capture_payment"):
            has_ref = "provider_reference" in command.body
            assert has_ref == (command.body["provider"] == "razorpay")
    assert traffic.captures and traffic.settlements
    kinds: dict[str, int] = {}
    for hook in traffic.webhooks:
        razorpay_webhook.verify(hook.body, hook.signature(SECRET), SECRET)
        event = orjson.loads(hook.body)
        [fact] = razorpay_webhook.facts(event, hook.event_id)
        kinds[fact.kind] = kinds.get(fact.kind, 0) + 1
        if fact.kind == "settlement":
            assert fact.amount_minor > 0
    assert kinds["captured"] == traffic.captures
    assert kinds["settlement"] == traffic.settlements
    settled = sum(line["credit"] - line["debit"] for line in traffic.recon.lines)
    amounts = [
        orjson.loads(h.body)["payload"]["settlement"]["entity"]["amount"]
        for h in traffic.webhooks
        if b"settlement.processed" in h.body
    ]
    assert sum(amounts) == settled
