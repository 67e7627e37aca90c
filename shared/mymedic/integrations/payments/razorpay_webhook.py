"""Razorpay webhooks: verified with Razorpay's own library, mapped to gateway facts.

``X-Razorpay-Signature`` is the hex HMAC-SHA256 of the raw body with the webhook
secret, checked by ``razorpay.Utility().verify_webhook_signature``. Razorpay's body
has no event id: ``X-Razorpay-Event-Id`` (the header it documents for deduplication)
names the event, or, without it, a digest of the body. Amounts are in paise. Events:

- ``payment.captured`` -> captured (with Razorpay's ``fee`` and ``tax`` on it);
- ``payment.failed`` -> failed;
- ``refund.created``/``refund.processed``/``refund.failed`` -> refund;
- ``payment.dispute.created``/``under_review``/``action_required``/``won``/``lost``/
  ``closed`` -> dispute;
- ``settlement.processed`` -> settlement (Razorpay settles in INR: the entity has no
  currency).

Anything else is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mymedic.integrations.payments.facts import (
    GatewayFact,
    UnusablePayload,
    currency,
    instant,
    link_from,
    minor,
    obj,
    optional_minor,
    ref,
    short,
)

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
SETTLEMENT_CURRENCY = "INR"

_REFUND_STATUS = {"pending": "pending", "created": "pending", "processed": "processed"}
_DISPUTE_PHASE = {
    "payment.dispute.created": "opened",
    "payment.dispute.action_required": "opened",
    "payment.dispute.under_review": "under_review",
    "payment.dispute.won": "won",
    "payment.dispute.lost": "lost",
    "payment.dispute.closed": "closed",
}


class SignatureRejected(Exception):
    pass


def verify(body: bytes, signature: str | None, secret: str) -> None:
    """Raise :class:`SignatureRejected` unless ``body`` is signed with ``secret``."""
    import razorpay
    from razorpay.errors import SignatureVerificationError

    if not signature:
        raise SignatureRejected(f"no {SIGNATURE_HEADER} header")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureRejected("the body is not UTF-8") from None
    try:
        razorpay.Utility().verify_webhook_signature(text, signature, secret)
    except SignatureVerificationError:
        raise SignatureRejected("the signature does not match the body") from None


def event_id(header_value: str | None, body: bytes) -> str:
    if header_value:
        return ref(header_value, EVENT_ID_HEADER)
    return "body-" + hashlib.sha256(body).hexdigest()[:58]


def facts(event: dict[str, Any], provider_event_id: str) -> list[GatewayFact]:
    """The facts of one verified event (none for the types we do not follow)."""
    kind = str(event.get("event"))
    payload = obj(event.get("payload"), "payload")
    base: dict[str, Any] = {
        "provider": "razorpay",
        "provider_event_id": provider_event_id,
        "provider_event_type": kind,
        "occurred_at": instant(event.get("created_at"), "created_at"),
    }
    if kind == "settlement.processed":
        settlement = _entity(payload, "settlement")
        return [
            GatewayFact(
                kind="settlement",
                payment_ref=None,
                amount_minor=minor(settlement.get("amount"), "amount"),
                currency=SETTLEMENT_CURRENCY,
                ref=ref(settlement.get("id"), "settlement id"),
                status=short(settlement.get("status")) or "processed",
                fee_minor=optional_minor(settlement.get("fees"), "fees"),
                tax_minor=optional_minor(settlement.get("tax"), "tax"),
                bank_reference=short(settlement.get("utr")),
                payment_refs=_payment_refs(settlement.get("payment_ids")),
                **base,
            )
        ]
    if kind not in {
        "payment.captured",
        "payment.failed",
        "refund.created",
        "refund.processed",
        "refund.failed",
        *_DISPUTE_PHASE,
    }:
        return []
    payment = _entity(payload, "payment") if "payment" in payload else {}
    link = link_from(payment.get("notes"))
    if kind in {"payment.captured", "payment.failed"}:
        return [
            GatewayFact(
                kind="captured" if kind == "payment.captured" else "failed",
                payment_ref=ref(payment.get("id"), "payment id"),
                amount_minor=minor(payment.get("amount"), "amount"),
                currency=currency(payment.get("currency")),
                link=link,
                fee_minor=optional_minor(payment.get("fee"), "fee"),
                tax_minor=optional_minor(payment.get("tax"), "tax"),
                method=short(payment.get("method")),
                detail=short(payment.get("error_code")) if kind == "payment.failed" else None,
                **base,
            )
        ]
    if kind.startswith("refund."):
        refund = _entity(payload, "refund")
        status = "failed" if kind == "refund.failed" else "processed"
        if kind == "refund.created":
            status = _REFUND_STATUS.get(str(refund.get("status")), "pending")
        return [
            GatewayFact(
                kind="refund",
                payment_ref=ref(refund.get("payment_id") or payment.get("id"), "payment_id"),
                amount_minor=minor(refund.get("amount"), "amount"),
                currency=currency(refund.get("currency")),
                link=link_from(refund.get("notes")).merged(link),
                ref=ref(refund.get("id"), "refund id"),
                status=status,
                **base,
            )
        ]
    dispute = _entity(payload, "dispute")
    return [
        GatewayFact(
            kind="dispute",
            payment_ref=ref(dispute.get("payment_id") or payment.get("id"), "payment_id"),
            amount_minor=minor(dispute.get("amount"), "amount"),
            currency=currency(dispute.get("currency")),
            link=link,
            ref=ref(dispute.get("id"), "dispute id"),
            status=_DISPUTE_PHASE[kind],
            detail=short(dispute.get("reason_code")),
            **base,
        )
    ]


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    wrapper = payload.get(name)
    if not isinstance(wrapper, dict):
        raise UnusablePayload(f"payload.{name} is missing")
    return obj(wrapper.get("entity"), f"payload.{name}.entity")


def _payment_refs(value: Any) -> tuple[str, ...]:
    """The payments a settlement covers. Razorpay's webhook does not list them; the
    settlement recon (its items' payment ids) does, and arrives in this key when a
    caller has joined it in. Absent: none known."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise UnusablePayload("payment_ids must be a list")
    return tuple(ref(item, "settled payment id") for item in value)
