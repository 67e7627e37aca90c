"""Stripe webhooks: verified with Stripe's own library, mapped to gateway facts.

``Stripe-Signature: t=...,v1=...`` is checked on the raw body by
``stripe.WebhookSignature.verify_header`` (HMAC-SHA256 of ``"{t}.{body}"``, any of
several ``v1`` values while a secret is rolled, a 300 s tolerance). Events mapped:

- ``payment_intent.succeeded`` -> captured (``charge.succeeded`` only for a charge
  without a PaymentIntent: with one, the PaymentIntent event is the capture);
- ``payment_intent.payment_failed`` -> failed;
- ``refund.created``, ``refund.updated``, and each refund listed in a
  ``charge.refunded`` charge -> refund (deduplicated by refund id);
- ``charge.dispute.created``/``updated``/``closed`` -> dispute;
- ``payout.paid`` -> settlement.

Anything else is acknowledged and ignored.
"""

from __future__ import annotations

from typing import Any

from mymedic.integrations.payments.facts import (
    GatewayFact,
    PaymentLink,
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

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300

_REFUND_STATUS = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "processed",
    "failed": "failed",
    "canceled": "cancelled",
}
_DISPUTE_PHASE = {
    "warning_needs_response": "opened",
    "needs_response": "opened",
    "warning_under_review": "under_review",
    "under_review": "under_review",
    "won": "won",
    "lost": "lost",
    "warning_closed": "closed",
    "prevented": "closed",
}


class SignatureRejected(Exception):
    pass


def verify(body: bytes, header: str | None, secret: str) -> None:
    """Raise :class:`SignatureRejected` unless ``body`` is signed by Stripe, recently."""
    import stripe

    try:
        stripe.WebhookSignature.verify_header(body, header, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise SignatureRejected(str(exc).split(".")[0]) from None
    except UnicodeDecodeError:
        raise SignatureRejected("the body is not UTF-8") from None


def event_id(event: dict[str, Any]) -> str:
    return ref(event.get("id"), "id")


def facts(event: dict[str, Any]) -> list[GatewayFact]:
    """The facts of one verified event (none for the types we do not follow)."""
    kind = event.get("type")
    data = obj(obj(event.get("data"), "data").get("object"), "data.object")
    base: dict[str, Any] = {
        "provider": "stripe",
        "provider_event_id": event_id(event),
        "provider_event_type": str(kind),
        "occurred_at": instant(event.get("created"), "created"),
    }
    match kind:
        case "payment_intent.succeeded":
            return [_captured(data, base, data.get("id"))]
        case "charge.succeeded" if not data.get("payment_intent"):
            return [_captured(data, base, data.get("id"))]
        case "payment_intent.payment_failed":
            error = data.get("last_payment_error")
            code = (
                error.get("decline_code") or error.get("code") if isinstance(error, dict) else None
            )
            return [
                GatewayFact(
                    kind="failed",
                    payment_ref=ref(data.get("id"), "payment intent id"),
                    amount_minor=minor(data.get("amount"), "amount"),
                    currency=currency(data.get("currency")),
                    link=link_from(data.get("metadata")),
                    detail=short(code),
                    method=_method(data),
                    **base,
                )
            ]
        case "refund.created" | "refund.updated":
            return [_refund(data, base, PaymentLink())]
        case "charge.refunded":
            listed = data.get("refunds")
            refunds = listed.get("data") if isinstance(listed, dict) else None
            charge_link = link_from(data.get("metadata"))
            return [
                _refund(obj(item, "refunds.data[]"), base, charge_link)
                for item in (refunds if isinstance(refunds, list) else [])
            ]
        case "charge.dispute.created" | "charge.dispute.updated" | "charge.dispute.closed":
            status = str(data.get("status"))
            return [
                GatewayFact(
                    kind="dispute",
                    payment_ref=_payment_ref(data),
                    amount_minor=minor(data.get("amount"), "amount"),
                    currency=currency(data.get("currency")),
                    link=link_from(data.get("metadata")),
                    ref=ref(data.get("id"), "dispute id"),
                    status=_DISPUTE_PHASE.get(status, "under_review"),
                    detail=short(data.get("reason")),
                    **base,
                )
            ]
        case "payout.paid":
            arrival = data.get("arrival_date")
            return [
                GatewayFact(
                    kind="settlement",
                    payment_ref=None,
                    amount_minor=minor(data.get("amount"), "amount"),
                    currency=currency(data.get("currency")),
                    ref=ref(data.get("id"), "payout id"),
                    status=short(data.get("status")) or "paid",
                    fee_minor=_fee(data.get("balance_transaction")),
                    settled_at=instant(arrival, "arrival_date") if arrival is not None else None,
                    **base,
                )
            ]
    return []


def _captured(data: dict[str, Any], base: dict[str, Any], payment_ref: Any) -> GatewayFact:
    received = data.get("amount_received", data.get("amount_captured", data.get("amount")))
    charge = data.get("latest_charge")
    balance = charge.get("balance_transaction") if isinstance(charge, dict) else None
    return GatewayFact(
        kind="captured",
        payment_ref=ref(payment_ref, "payment id"),
        amount_minor=minor(received, "amount_received"),
        currency=currency(data.get("currency")),
        link=link_from(data.get("metadata")),
        fee_minor=_fee(balance or data.get("balance_transaction")),
        method=_method(data),
        **base,
    )


def _refund(data: dict[str, Any], base: dict[str, Any], link: PaymentLink) -> GatewayFact:
    return GatewayFact(
        kind="refund",
        payment_ref=_payment_ref(data),
        amount_minor=minor(data.get("amount"), "amount"),
        currency=currency(data.get("currency")),
        link=link_from(data.get("metadata")).merged(link),
        ref=ref(data.get("id"), "refund id"),
        status=_REFUND_STATUS.get(str(data.get("status")), "pending"),
        **base,
    )


def _payment_ref(data: dict[str, Any]) -> str:
    """The payment a refund or dispute belongs to: its PaymentIntent, else its charge."""
    intent = data.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if intent:
        return ref(intent, "payment_intent")
    charge = data.get("charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    if not charge:
        raise UnusablePayload("neither payment_intent nor charge names the payment")
    return ref(charge, "charge")


def _fee(balance_transaction: Any) -> int | None:
    """The fee, when the balance transaction is expanded in the event (else unknown)."""
    if isinstance(balance_transaction, dict):
        return optional_minor(balance_transaction.get("fee"), "fee")
    return None


def _method(data: dict[str, Any]) -> str | None:
    details = data.get("payment_method_details")
    if isinstance(details, dict) and details.get("type"):
        return short(details["type"])
    types = data.get("payment_method_types")
    if isinstance(types, list) and len(types) == 1:
        return short(types[0])
    return None
