"""The lines of a settlement, from the gateway's API (its webhook does not list them).

- Razorpay: the settlement recon (``GET /v1/settlements/recon/combined``) lists what was
  settled on a day (``year``/``month``/``day``, IST), paged by ``count``/``skip``; the
  lines of one settlement are those whose ``settlement_id`` is its id. A line's net is
  ``credit - debit``.
- Stripe: the balance transactions of a payout (``GET /v1/balance_transactions?payout=``),
  paged by ``starting_after`` while ``has_more``, each with its ``source`` expanded (the
  charge, refund or dispute, which names the PaymentIntent); the payout's own line is
  not one of its lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import httpx
from pydantic import ValidationError

from mymedic.domain import events as e
from mymedic.integrations.payments.gateway_http import GatewayApiError, GatewayHttp

RAZORPAY_API = "https://api.razorpay.com/v1"
STRIPE_API = "https://api.stripe.com/v1"
RECON_PAGE = 1000
BALANCE_PAGE = 100

Source = Literal["razorpay_settlement_recon", "stripe_balance_transactions"]


@dataclass(frozen=True)
class SettlementLines:
    source: Source
    currency: str | None  # None when there are no lines
    items: tuple[e.SettlementItem, ...]


class RazorpayReconClient:
    def __init__(
        self,
        http: httpx.Client,
        key_id: str,
        key_secret: str,
        *,
        base_url: str = RAZORPAY_API,
        page_size: int = RECON_PAGE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api = GatewayHttp(
            http, "razorpay", auth=httpx.BasicAuth(key_id, key_secret), sleep=sleep
        )
        self._base = base_url.rstrip("/")
        self._page = page_size

    def recon(self, day: date) -> Iterator[dict[str, Any]]:
        """Every line settled on ``day`` (IST), page by page."""
        skip = 0
        while True:
            params = [
                ("year", str(day.year)),
                ("month", str(day.month)),
                ("day", str(day.day)),
                ("count", str(self._page)),
                ("skip", str(skip)),
            ]
            body = self._api.get_json(f"{self._base}/settlements/recon/combined", params)
            items = body.get("items")
            if not isinstance(items, list):
                raise GatewayApiError("razorpay recon answered without an items list")
            yield from (item for item in items if isinstance(item, dict))
            if len(items) < self._page:
                return
            skip += len(items)

    def settlement_lines(self, settlement_ref: str, settled_on: date) -> SettlementLines:
        """The lines of one settlement: asked for its day and the day after (a line
        settled around midnight), each line once."""
        lines: dict[str, dict[str, Any]] = {}
        for day in (settled_on, settled_on + timedelta(days=1)):
            for item in self.recon(day):
                if item.get("settlement_id") == settlement_ref:
                    lines.setdefault(str(item.get("entity_id")), item)
        items = tuple(_razorpay_item(line) for _, line in sorted(lines.items()))
        return SettlementLines(
            "razorpay_settlement_recon", _one_currency(lines.values(), "razorpay"), items
        )


_RAZORPAY_KINDS: dict[str, e.SettlementItemKind] = {
    "payment": "payment",
    "refund": "refund",
    "dispute": "dispute",
    "adjustment": "adjustment",
}


def _razorpay_item(line: dict[str, Any]) -> e.SettlementItem:
    kind = _RAZORPAY_KINDS.get(str(line.get("type")), "other")
    entity = line.get("entity_id")
    payment = entity if kind == "payment" else line.get("payment_id")
    return _item(
        kind=kind,
        item_ref=entity,
        payment_ref=payment,
        amount_minor=line.get("amount"),
        fee_minor=line.get("fee") or 0,
        tax_minor=line.get("tax") or 0,
        net_minor=_int(line.get("credit")) - _int(line.get("debit")),
    )


class StripeBalanceClient:
    def __init__(
        self,
        http: httpx.Client,
        api_key: str,
        *,
        base_url: str = STRIPE_API,
        page_size: int = BALANCE_PAGE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"}
        self._api = GatewayHttp(http, "stripe", headers=headers, sleep=sleep)
        self._base = base_url.rstrip("/")
        self._page = page_size

    def balance_transactions(self, payout_ref: str) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            params = [
                ("payout", payout_ref),
                ("limit", str(self._page)),
                ("expand[]", "data.source"),
            ]
            if after is not None:
                params.append(("starting_after", after))
            body = self._api.get_json(f"{self._base}/balance_transactions", params)
            data = body.get("data")
            if not isinstance(data, list):
                raise GatewayApiError("stripe answered a list without data")
            page = [item for item in data if isinstance(item, dict)]
            yield from page
            if not body.get("has_more") or not page:
                return
            after = str(page[-1].get("id"))

    def settlement_lines(self, payout_ref: str) -> SettlementLines:
        lines = [
            line for line in self.balance_transactions(payout_ref) if line.get("type") != "payout"
        ]
        items = tuple(sorted((_stripe_item(line) for line in lines), key=lambda i: i.item_ref))
        return SettlementLines("stripe_balance_transactions", _one_currency(lines, "stripe"), items)


_STRIPE_KINDS: dict[str, e.SettlementItemKind] = {
    "charge": "payment",
    "payment": "payment",
    "refund": "refund",
    "payment_refund": "refund",
    "dispute": "dispute",
    "dispute_reversal": "dispute",
    "adjustment": "adjustment",
}


def _stripe_item(line: dict[str, Any]) -> e.SettlementItem:
    source = line.get("source")
    source = source if isinstance(source, dict) else {}
    kind = _STRIPE_KINDS.get(str(line.get("type")), "other")
    if source.get("object") == "dispute":
        kind = "dispute"  # a dispute's withdrawal is an "adjustment" line
    details = line.get("fee_details")
    tax = sum(
        _int(detail.get("amount"))
        for detail in (details if isinstance(details, list) else [])
        if isinstance(detail, dict) and detail.get("type") == "tax"
    )
    charge = source.get("charge") or (
        source.get("id") if source.get("object") == "charge" else None
    )
    if isinstance(charge, dict):
        charge = charge.get("id")
    intent = source.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return _item(
        kind=kind,
        item_ref=line.get("id"),
        payment_ref=intent or charge,
        amount_minor=abs(_int(line.get("amount"))),
        fee_minor=abs(_int(line.get("fee"))),  # negative: a fee given back (by a refund)
        tax_minor=abs(tax),
        net_minor=line.get("net"),
    )


def _item(**fields: Any) -> e.SettlementItem:
    try:
        return e.SettlementItem.model_validate(fields)
    except ValidationError as exc:
        where = ", ".join(str(error["loc"][0]) for error in exc.errors() if error["loc"])
        raise GatewayApiError(
            f"a settlement line ({fields.get('item_ref')!s:.100}) is unusable: {where}"
        ) from None


def _int(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise GatewayApiError("an amount of a settlement line is not an integer")
    return value


def _one_currency(lines: Any, provider: str) -> str | None:
    found = {str(line.get("currency") or "").upper() for line in lines}
    if len(found) > 1:
        raise GatewayApiError(f"{provider} settlement lines in several currencies: {sorted(found)}")
    return next(iter(found), None) or None
