"""Zoho Books API v3 listings on the CRM client's OAuth token, retries and backoff
(429 included: Books allows about 100 requests a minute per organisation).

Amounts are parsed straight into :class:`~decimal.Decimal` from the JSON text, so no
value ever passes through a float."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from mymedic.integrations.zoho.client import MalformedRecord, ZohoClient, ZohoError
from mymedic.integrations.zoho.records import ZohoRecord
from mymedic.integrations.zoho_books.source import CREDIT_NOTES, INVOICES, PAYMENTS

BOOKS_PATH = "/books/v3"
MAX_PER_PAGE = 200
MAX_PAGES = 10_000  # a listing that never says "no more" is a bug, not a big ledger


class ZohoBooksClient:
    """An :class:`~mymedic.integrations.zoho_books.source.InvoiceSource`."""

    def __init__(self, zoho: ZohoClient, organization_id: str, *, per_page: int = 200) -> None:
        if not organization_id.isdigit():
            raise ValueError("a Books organization_id is digits")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        self._zoho = zoho
        self._organization_id = organization_id
        self._per_page = per_page

    def invoices(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]:
        return self._listing("invoices", "invoice_id", INVOICES, modified_since)

    def customer_payments(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]:
        return self._listing("customerpayments", "payment_id", PAYMENTS, modified_since)

    def credit_notes(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]:
        """Credit notes, each with ``invoices_credited`` (Books' "list invoices credited"
        of the note: the listing does not say which invoices a note was applied to)."""
        listing = self._listing("creditnotes", "creditnote_id", CREDIT_NOTES, modified_since)
        for record in listing:
            path = f"{BOOKS_PATH}/creditnotes/{record.record_id}/invoices"
            body = _body(self._zoho.get(path, {"organization_id": self._organization_id}))
            credited = body.get("invoices_credited")
            if not isinstance(credited, list):
                raise ZohoError("Books creditnotes: no invoices_credited list in the answer")
            yield ZohoRecord(
                module=record.module,
                record_id=record.record_id,
                modified_time=record.modified_time,
                fields={**record.fields, "invoices_credited": credited},
            )

    def _listing(
        self, resource: str, id_key: str, module: str, since: datetime | None
    ) -> Iterator[ZohoRecord]:
        """Every item modified at or after ``since``, page by page. The filter is also
        applied here, so a listing Books does not filter is still read correctly."""
        params = {"organization_id": self._organization_id, "per_page": str(self._per_page)}
        if since is not None:
            if since.utcoffset() is None:
                raise ValueError("modified_since must be timezone-aware")
            params["last_modified_time"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")
        for page in range(1, MAX_PAGES + 1):
            body = _body(self._zoho.get(f"{BOOKS_PATH}/{resource}", {**params, "page": str(page)}))
            items = body.get(resource)
            if not isinstance(items, list):
                raise ZohoError(f"Books {resource}: no {resource} list in the answer")
            for item in items:
                record = _record(module, id_key, item)
                if since is None or record.modified_time >= since:
                    yield record
            context = body.get("page_context")
            if not isinstance(context, dict) or not context.get("has_more_page"):
                return
        raise ZohoError(f"Books {resource}: still more pages after {MAX_PAGES}")


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise ZohoError(f"Books HTTP {response.status_code}: the body is not JSON") from None
    if not isinstance(body, dict):
        raise ZohoError(f"Books HTTP {response.status_code}: the body is not a JSON object")
    if body.get("code") != 0:
        message = str(body.get("message") or "")[:200]
        raise ZohoError(f"Books refused the request: code {body.get('code')}: {message}")
    return body


def _record(module: str, id_key: str, item: Any) -> ZohoRecord:
    if not isinstance(item, dict):
        raise ZohoError(f"{module}: an item that is not a JSON object")
    record_id, modified = item.get(id_key), item.get("last_modified_time")
    if not record_id or not isinstance(modified, str):
        raise MalformedRecord(module, record_id, f"an item without {id_key} or last_modified_time")
    try:
        when = datetime.fromisoformat(modified)
    except ValueError:
        raise MalformedRecord(module, record_id, "unparsable last_modified_time") from None
    if when.utcoffset() is None:
        raise MalformedRecord(module, record_id, "last_modified_time without an offset")
    return ZohoRecord(module=module, record_id=str(record_id), modified_time=when, fields=item)
