"""Fake Razorpay settlement recon and Stripe balance transactions, served through
``httpx.MockTransport`` in the providers' documented formats.

- :class:`FakeRazorpayRecon`: ``GET /v1/settlements/recon/combined?year&month[&day]``,
  HTTP basic auth (key id and secret), paged by ``count`` (default 10, at most 1000) and
  ``skip``; the lines settled on that Indian date (or month), oldest first.
- :class:`FakeStripeBalance`: ``GET /v1/balance_transactions?payout=po_...``, bearer
  secret key, paged by ``limit`` (default 10, at most 100) and ``starting_after`` with
  ``has_more``, newest first, each line's ``source`` an id unless ``expand[]=data.source``.

Both refuse bad credentials as the providers do (401 and their error body), and fail
the next requests with :meth:`fail_next` (a 429 or 503, with ``Retry-After`` if given) to
prove retries. Synthetic data; the credentials are random per instance.
"""

from __future__ import annotations

import base64
import secrets
from collections import deque
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

IST = timezone(timedelta(hours=5, minutes=30))
Line = dict[str, Any]


class _Fake:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._faults: deque[tuple[int, str | None]] = deque()

    def fail_next(self, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        self._faults.extend([(status, retry_after)] * times)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self._faults:
            status, retry_after = self._faults.popleft()
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return httpx.Response(status, json=self._error(status), headers=headers)
        return self._serve(request)

    def _error(self, status: int) -> dict[str, Any]:
        raise NotImplementedError

    def _serve(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError


def _int_param(request: httpx.Request, name: str, default: int) -> int | None:
    value = request.url.params.get(name)
    if value is None:
        return default
    return int(value) if value.isdigit() else None


class FakeRazorpayRecon(_Fake):
    MAX_COUNT = 1000

    def __init__(self) -> None:
        super().__init__()
        self.key_id = f"rzp_test_{secrets.token_hex(7)}"
        self.key_secret = secrets.token_urlsafe(18)
        self.lines: list[Line] = []

    def settle(self, settlement_id: str, utr: str, settled_at: datetime, lines: list[Line]) -> None:
        """Record ``lines`` (from :func:`razorpay_line`) as paid out by one settlement."""
        for line in lines:
            self.lines.append(
                {
                    **line,
                    "settled": True,
                    "settled_at": int(settled_at.timestamp()),
                    "settlement_id": settlement_id,
                    "settlement_utr": utr,
                }
            )

    def _error(self, status: int) -> dict[str, Any]:
        code = "BAD_REQUEST_ERROR" if status < 500 else "SERVER_ERROR"
        description = "Too many requests" if status == 429 else "The server is unavailable"
        return {"error": {"code": code, "description": description, "source": "NA"}}

    def _bad_request(self, description: str, status: int = 400) -> httpx.Response:
        body = {"error": {"code": "BAD_REQUEST_ERROR", "description": description}}
        return httpx.Response(status, json=body)

    def _serve(self, request: httpx.Request) -> httpx.Response:
        expected = base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return self._bad_request("The api key provided is invalid", 401)
        if request.method != "GET" or request.url.path != "/v1/settlements/recon/combined":
            return self._bad_request("The requested URL was not found on the server.", 404)
        year, month = _int_param(request, "year", 0), _int_param(request, "month", 0)
        day = _int_param(request, "day", 0)
        count, skip = _int_param(request, "count", 10), _int_param(request, "skip", 0)
        if not year or not month or day is None or count is None or skip is None:
            return self._bad_request("The year and month fields are required.")
        if not 1 <= count <= self.MAX_COUNT:
            return self._bad_request(f"The count must be between 1 and {self.MAX_COUNT}.")

        def on_date(line: Line) -> bool:
            settled = datetime.fromtimestamp(line["settled_at"], UTC).astimezone(IST).date()
            return (settled.year, settled.month) == (year, month) and day in (0, settled.day)

        found = sorted(
            (line for line in self.lines if on_date(line)),
            key=lambda line: (line["created_at"], line["entity_id"]),
        )
        page = found[skip : skip + count]
        return httpx.Response(200, json={"entity": "collection", "count": len(page), "items": page})


def razorpay_line(
    entity_id: str,
    kind: str,
    amount: int,
    *,
    fee: int = 0,
    tax: int = 0,
    payment_id: str | None = None,
    created_at: int = 1772438400,
) -> Line:
    """A recon line as Razorpay documents it: a payment credits amount - fee; a refund,
    dispute or adjustment debits its amount."""
    credit = amount - fee if kind == "payment" else 0
    debit = 0 if kind == "payment" else amount + fee
    return {
        "entity_id": entity_id,
        "type": kind,
        "debit": debit,
        "credit": credit,
        "amount": amount,
        "currency": "INR",
        "fee": fee,
        "tax": tax,
        "on_hold": False,
        "settled": False,
        "created_at": created_at,
        "settled_at": None,
        "settlement_id": None,
        "posted_at": None,
        "credit_type": "default",
        "description": None,
        "notes": None,
        "payment_id": payment_id,
        "settlement_utr": None,
        "order_id": f"order_{entity_id[-10:]}",
        "order_receipt": None,
        "method": "upi",
        "card_network": None,
        "card_issuer": None,
        "card_type": None,
        "dispute_id": None,
    }


class FakeStripeBalance(_Fake):
    MAX_LIMIT = 100

    def __init__(self) -> None:
        super().__init__()
        self.api_key = f"sk_test_{secrets.token_hex(12)}"
        self.payouts: dict[str, list[Line]] = {}

    def pay_out(self, payout_id: str, lines: list[Line], *, created: int = 1772524800) -> None:
        """A payout of ``lines`` (from :func:`stripe_charge` and friends); its own
        balance transaction (type ``payout``) is listed with them, as Stripe does."""
        total = sum(line["net"] for line in lines)
        own = {
            **_balance_transaction(
                f"txn_{payout_id[3:]}",
                "payout",
                -total,
                fee=0,
                fee_details=[],
                created=created,
                currency=lines[0]["currency"],
            ),
            "source": {"id": payout_id, "object": "payout", "amount": total},
        }
        newest_first = sorted(lines, key=lambda line: (-line["created"], line["id"]))
        self.payouts[payout_id] = [own, *newest_first]

    def _error(self, status: int) -> dict[str, Any]:
        kind = "invalid_request_error" if status == 429 else "api_error"
        return {"error": {"type": kind, "code": "rate_limit" if status == 429 else None}}

    def _serve(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            masked = "Invalid API Key provided: sk_test_****"
            error = {"message": masked, "type": "invalid_request_error"}
            return httpx.Response(401, json={"error": error})
        if request.method != "GET" or request.url.path != "/v1/balance_transactions":
            error = {"type": "invalid_request_error", "message": "Unrecognized request URL"}
            return httpx.Response(404, json={"error": error})
        params = request.url.params
        limit = _int_param(request, "limit", 10)
        if limit is None or not 1 <= limit <= self.MAX_LIMIT:
            error = {
                "type": "invalid_request_error",
                "param": "limit",
                "code": "parameter_invalid_integer",
            }
            return httpx.Response(400, json={"error": error})
        lines = self.payouts.get(params.get("payout", ""))
        if lines is None:
            error = {"type": "invalid_request_error", "param": "payout", "code": "resource_missing"}
            return httpx.Response(404, json={"error": error})
        start = 0
        after = params.get("starting_after")
        if after is not None:
            ids = [line["id"] for line in lines]
            if after not in ids:
                error = {
                    "type": "invalid_request_error",
                    "param": "starting_after",
                    "code": "resource_missing",
                }
                return httpx.Response(400, json={"error": error})
            start = ids.index(after) + 1
        page = lines[start : start + limit]
        expanded = "data.source" in params.get_list("expand[]")
        data = [line if expanded else {**line, "source": line["source"]["id"]} for line in page]
        body = {
            "object": "list",
            "data": data,
            "has_more": start + limit < len(lines),
            "url": "/v1/balance_transactions",
        }
        return httpx.Response(200, json=body)


def _balance_transaction(
    txn: str,
    kind: str,
    amount: int,
    *,
    fee: int,
    fee_details: list[Line],
    created: int,
    currency: str,
) -> Line:
    return {
        "id": txn,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + 172800,
        "created": created,
        "currency": currency,
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": kind,
        "status": "available",
        "type": kind,
    }


def _fees(fee: int, tax: int, currency: str) -> list[Line]:
    details = [
        {
            "amount": fee - tax,
            "application": None,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    if tax:
        details.append(
            {
                "amount": tax,
                "application": None,
                "currency": currency,
                "description": "GST",
                "type": "tax",
            }
        )
    return details


def stripe_charge(
    txn: str,
    intent: str,
    charge: str,
    amount: int,
    fee: int,
    *,
    tax: int = 0,
    currency: str = "inr",
    created: int = 1772438400,
) -> Line:
    """The balance transaction of a charge (``fee`` includes ``tax``)."""
    line = _balance_transaction(
        txn,
        "charge",
        amount,
        fee=fee,
        fee_details=_fees(fee, tax, currency),
        created=created,
        currency=currency,
    )
    line["source"] = {"id": charge, "object": "charge", "amount": amount, "payment_intent": intent}
    return line


def stripe_refund(
    txn: str,
    intent: str,
    charge: str,
    refund: str,
    amount: int,
    *,
    currency: str = "inr",
    created: int = 1772438400,
) -> Line:
    line = _balance_transaction(
        txn, "refund", -amount, fee=0, fee_details=[], created=created, currency=currency
    )
    line["source"] = {
        "id": refund,
        "object": "refund",
        "amount": amount,
        "charge": charge,
        "payment_intent": intent,
    }
    return line
