"""The demo's payment gateway: what Razorpay would tell the platform about the UPI and
card money the demo takes, so that the demo ends with a reconciliation worth reading.

For every deposit or payment the demo records with provider ``razorpay`` (at the portal
or the front desk), the gateway captures it under a reference the command now carries
(``provider_reference``), with Razorpay's fee (2% plus 18% GST on it) and the links in
the payment's notes; every refund of such a payment is processed at the gateway with our
refund id in its notes. The chain shares one Razorpay account (its owner is the demo's
payments tenant): every tenant's captures and refunds of a day are settled two days later
(T+2, 11:00 IST) by one ``settlement.processed`` (a day whose refunds exceed its takings
is carried into the next settlement), whose lines are served by a
:class:`~mymedic.testing.gateway_fake.FakeRazorpayRecon` for the settlement-detail job
and split per tenant by the payments they pay out.

Seeded, like real life: a few capture webhooks are never delivered (the settlement
still pays them out) and a few walk-in payments are captured that nobody recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from mymedic.demo.generator import DemoCommand
from mymedic.testing.gateway_fake import FakeRazorpayRecon, Line, razorpay_line

IST = ZoneInfo("Asia/Kolkata")
FEE_PERCENT = 2
GST_PERCENT = 18
SETTLEMENT_DELAY_DAYS = 2
SETTLEMENT_TIME = time(11, 0)
LOST_WEBHOOK_SHARE = 0.005
WALK_IN_SHARE = 0.003
PAYMENT_COMMANDS = ("take_payment", "capture_payment")
REFUND_COMMANDS = ("refund_appointment_payment", "refund_payment")


@dataclass(frozen=True)
class Webhook:
    at: datetime
    event_id: str
    body: bytes

    def signature(self, secret: str) -> str:
        return hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()


@dataclass
class GatewayTraffic:
    webhooks: list[Webhook] = field(default_factory=list)
    recon: FakeRazorpayRecon = field(default_factory=FakeRazorpayRecon)
    captures: int = 0
    refunds: int = 0
    settlements: int = 0


@dataclass
class _Day:
    lines: list[Line] = field(default_factory=list)


def razorpay_fee(amount_minor: int) -> tuple[int, int]:
    """(fee including GST, the GST part), in paise."""
    base = amount_minor * FEE_PERCENT // 100
    tax = base * GST_PERCENT // 100
    return base + tax, tax


def attach_gateway(commands: list[DemoCommand], *, seed: int, now: datetime) -> GatewayTraffic:
    """Give every Razorpay payment command its gateway reference (in place) and build
    what the gateway sends about them, up to ``now``."""
    rng = random.Random(seed * 7919 + 17)
    traffic = GatewayTraffic()
    refs: dict[tuple[str, str], str] = {}
    days: dict[date, _Day] = defaultdict(_Day)
    for command in sorted(commands, key=lambda c: c.at):
        body = command.body
        tenant = body["tenant_id"]
        if command.name in PAYMENT_COMMANDS and body.get("provider") == "razorpay":
            ref = _ref("pay", tenant, body["payment_id"])
            body["provider_reference"] = ref
            refs[(tenant, body["payment_id"])] = ref
            at = command.at + timedelta(seconds=30)
            fee, tax = razorpay_fee(body["amount_minor"])
            line = razorpay_line(
                ref, "payment", body["amount_minor"], fee=fee, tax=tax, created_at=_epoch(at)
            )
            line["method"] = body["mode"]
            days[at.astimezone(IST).date()].lines.append(line)
            if rng.random() >= LOST_WEBHOOK_SHARE:
                notes = _notes(body)
                traffic.webhooks.append(_captured(ref, body, notes, (fee, tax), at))
                traffic.captures += 1
            if rng.random() < WALK_IN_SHARE:
                _walk_in(traffic, days, tenant, body, at + timedelta(minutes=7))
        elif command.name in REFUND_COMMANDS and (tenant, body["payment_id"]) in refs:
            payment_ref = refs[(tenant, body["payment_id"])]
            refund_ref = _ref("rfnd", tenant, body["refund_id"])
            at = command.at + timedelta(minutes=5)
            line = razorpay_line(
                refund_ref,
                "refund",
                body["amount_minor"],
                payment_id=payment_ref,
                created_at=_epoch(at),
            )
            days[at.astimezone(IST).date()].lines.append(line)
            traffic.webhooks.append(_refunded(refund_ref, payment_ref, body, at))
            traffic.refunds += 1
    carried: list[Line] = []
    for day, found in sorted(days.items()):
        settled_at = datetime.combine(day + timedelta(SETTLEMENT_DELAY_DAYS), SETTLEMENT_TIME, IST)
        lines, carried = carried + found.lines, []
        if settled_at > now:
            continue
        if sum(line["credit"] - line["debit"] for line in lines) > 0:
            _settle(traffic, day, lines, settled_at)
        else:  # refunds above the day's takings: deducted from the next settlement
            carried = lines
    traffic.webhooks.sort(key=lambda hook: hook.at)
    return traffic


def _walk_in(
    traffic: GatewayTraffic,
    days: dict[date, _Day],
    tenant: str,
    body: dict[str, Any],
    at: datetime,
) -> None:
    """A payment at the terminal nobody recorded: captured and settled, linked to no one."""
    ref = _ref("pay", tenant, f"walk-in-{body['payment_id']}")
    amount = 50_000
    fee, tax = razorpay_fee(amount)
    days[at.astimezone(IST).date()].lines.append(
        razorpay_line(ref, "payment", amount, fee=fee, tax=tax, created_at=_epoch(at))
    )
    notes = {"mymedic_tenant": tenant, "mymedic_branch": body["branch_id"]}
    walk_in = {**body, "amount_minor": amount, "mode": "upi"}
    traffic.webhooks.append(_captured(ref, walk_in, notes, (fee, tax), at))
    traffic.captures += 1


def _settle(traffic: GatewayTraffic, day: date, lines: list[Line], settled_at: datetime) -> None:
    settlement_id = _ref("setl", "account", day.isoformat())
    utr = hashlib.sha256(settlement_id.encode()).hexdigest()[:16].upper()
    traffic.recon.settle(settlement_id, utr, settled_at, lines)
    amount = sum(line["credit"] - line["debit"] for line in lines)
    entity = {
        "id": settlement_id,
        "entity": "settlement",
        "amount": amount,
        "status": "processed",
        "fees": sum(line["fee"] for line in lines),
        "tax": sum(line["tax"] for line in lines),
        "utr": utr,
        "created_at": _epoch(settled_at),
    }
    traffic.webhooks.append(
        _webhook("settlement.processed", {"settlement": {"entity": entity}}, settled_at)
    )
    traffic.settlements += 1


def _captured(
    ref: str, body: dict[str, Any], notes: dict[str, str], fees: tuple[int, int], at: datetime
) -> Webhook:
    fee, tax = fees
    entity = {
        "id": ref,
        "entity": "payment",
        "amount": body["amount_minor"],
        "currency": body["currency"],
        "status": "captured",
        "method": body["mode"],
        "captured": True,
        "notes": notes,
        "fee": fee,
        "tax": tax,
        "error_code": None,
        "created_at": _epoch(at) - 20,
    }
    return _webhook("payment.captured", {"payment": {"entity": entity}}, at)


def _refunded(refund_ref: str, payment_ref: str, body: dict[str, Any], at: datetime) -> Webhook:
    entity = {
        "id": refund_ref,
        "entity": "refund",
        "amount": body["amount_minor"],
        "currency": body["currency"],
        "payment_id": payment_ref,
        "notes": {"mymedic_refund_id": body["refund_id"]},
        "status": "processed",
        "created_at": _epoch(at),
    }
    return _webhook("refund.processed", {"refund": {"entity": entity}}, at)


def _notes(body: dict[str, Any]) -> dict[str, str]:
    notes = {
        "mymedic_tenant": body["tenant_id"],
        "mymedic_branch": body["branch_id"],
        "mymedic_payment_id": body["payment_id"],
    }
    if "appointment_id" in body:
        notes["mymedic_appointment"] = body["appointment_id"]
        notes["mymedic_kind"] = body.get("kind", "payment")
    if "invoice_id" in body:
        notes["mymedic_invoice"] = body["invoice_id"]
    return notes


def _webhook(event: str, payload: dict[str, Any], at: datetime) -> Webhook:
    body = {
        "entity": "event",
        "account_id": "acc_DemoChain0001",
        "event": event,
        "contains": list(payload),
        "payload": payload,
        "created_at": _epoch(at),
    }
    event_id = "evt_" + hashlib.sha256(orjson.dumps(body)).hexdigest()[:14]
    return Webhook(at, event_id, orjson.dumps(body))


def _ref(prefix: str, *parts: str) -> str:
    """A Razorpay-shaped id (prefix_ + 14 characters), stable for the same parts."""
    return f"{prefix}_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:14]


def _epoch(at: datetime) -> int:
    return int(at.timestamp())
