"""Payment gateway webhooks (Stripe, Razorpay), independent of the web framework.

The signature is verified on the raw body with the provider's own library before the
body is parsed: a missing or wrong signature, a tampered body or (Stripe) a timestamp
outside the tolerance answers 401 and writes nothing. A verified event answers 200
with what became of it (recorded, duplicate, ignored) after one append per fact, so
the gateway's retries (Stripe up to 3 days, Razorpay 24 h) stop; a store that is
briefly unavailable answers 503 so that they continue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from mymedic.app.http import HttpResponse, error_response
from mymedic.integrations.payments import razorpay_webhook, stripe_webhook
from mymedic.integrations.payments.facts import GatewayFact, UnusablePayload
from mymedic.integrations.payments.ingest import PaymentIngestor
from mymedic.ports import ConcurrencyConflict, EventIdReused, TransientBackendError

log = logging.getLogger(__name__)

Provider = Literal["stripe", "razorpay"]
PROVIDERS: tuple[Provider, ...] = ("stripe", "razorpay")
MAX_BODY_BYTES = 512 * 1024


def handle_payment_webhook(
    provider: Provider,
    *,
    method: str,
    body: bytes,
    header: Callable[[str], str | None],
    secret: str | None,
    ingestor: Callable[[], PaymentIngestor],
) -> HttpResponse:
    """``ingestor()`` is called only once the signature is verified."""
    if method != "POST":
        return error_response(405, "method_not_allowed", f"{provider} webhooks are sent with POST")
    if not secret:
        return error_response(503, "not_configured", f"no {provider} webhook secret is set")
    if len(body) > MAX_BODY_BYTES:
        return error_response(413, "body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    try:
        if provider == "stripe":
            stripe_webhook.verify(body, header(stripe_webhook.SIGNATURE_HEADER), secret)
        else:
            razorpay_webhook.verify(body, header(razorpay_webhook.SIGNATURE_HEADER), secret)
    except (stripe_webhook.SignatureRejected, razorpay_webhook.SignatureRejected) as exc:
        return error_response(401, "unauthorized", f"signature rejected: {exc}")
    try:
        event = orjson.loads(body)
        if not isinstance(event, dict):
            raise UnusablePayload("the body must be a JSON object")
        event_id, event_type, facts = _facts(provider, event, body, header)
    except orjson.JSONDecodeError:
        return error_response(400, "invalid_json", "the body is not JSON")
    except (UnusablePayload, ValidationError) as exc:
        log.error("unusable %s webhook: %s", provider, exc)
        return error_response(422, "unusable_event", str(exc))
    body_out: dict[str, Any] = {"provider": provider, "event_id": event_id, "type": event_type}
    if not facts:
        return HttpResponse(200, {**body_out, "outcome": "ignored"})
    try:
        outcome = ingestor().ingest(facts)
    except (ValidationError, UnusablePayload) as exc:
        log.error("unusable %s webhook %s: %s", provider, event_id, exc)
        return error_response(422, "unusable_event", str(exc))
    except (ConcurrencyConflict, EventIdReused, TransientBackendError) as exc:
        return error_response(503, "unavailable", f"try again: {type(exc).__name__}")
    result = "duplicate" if outcome.recorded == 0 else "recorded"
    return HttpResponse(200, {**body_out, "outcome": result, **outcome.to_dict()})


def _facts(
    provider: Provider, event: dict[str, Any], body: bytes, header: Callable[[str], str | None]
) -> tuple[str, str, list[GatewayFact]]:
    if provider == "stripe":
        return stripe_webhook.event_id(event), str(event.get("type")), stripe_webhook.facts(event)
    event_id = razorpay_webhook.event_id(header(razorpay_webhook.EVENT_ID_HEADER), body)
    return event_id, str(event.get("event")), razorpay_webhook.facts(event, event_id)
