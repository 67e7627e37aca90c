"""The fake Zoho (:class:`~mymedic.testing.zoho_fake.FakeZoho`: its accounts server,
tokens, virtual clock and fault injection) serving the Zoho Books API v3 listings of
invoices, customer payments and credit notes too, in their documented format, and each
credit note's "list invoices credited" (``/creditnotes/{id}/invoices``: its
``invoices_credited``, each with ``creditnote_invoice_id``, ``invoice_id``,
``credited_amount`` and ``date``; the listing itself does not carry them).

Every request needs ``organization_id`` (``{"code": 2}`` and 400 without it; 6041 for
an organisation the user is not in); ``page`` and ``per_page`` (at most 200) page the
listing, ``page_context.has_more_page`` says whether more follow; ``last_modified_time``
(``2026-02-02T09:00:00+0530``) keeps the items modified at or after it. A 429 comes
from :meth:`FakeZoho.fail_next`. Amounts are served as JSON numbers, as Books does.

Synthetic data only."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from mymedic.testing.zoho_fake import FakeZoho

RESOURCES = {
    "invoices": "invoice_id",
    "customerpayments": "payment_id",
    "creditnotes": "creditnote_id",
}
MAX_PER_PAGE = 200


class FakeZohoBooks(FakeZoho):
    def __init__(self, *, organization_id: str = "60012345678", **options: Any) -> None:
        super().__init__(**options)
        self.organization_id = organization_id
        self._books: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in RESOURCES}
        self._credited: dict[str, list[dict[str, Any]]] = {}
        self._routes.add(Rule("/books/v3/<resource>", methods=["GET"], endpoint="books_list"))
        self._routes.add(
            Rule(
                "/books/v3/creditnotes/<creditnote_id>/invoices",
                methods=["GET"],
                endpoint="books_credited",
            )
        )

    def add_invoices(self, invoices: Iterable[dict[str, Any]]) -> None:
        """Store invoices: each has ``invoice_id`` and ``last_modified_time``."""
        self._put("invoices", invoices)

    def add_payments(self, payments: Iterable[dict[str, Any]]) -> None:
        """Store customer payments: each has ``payment_id`` and ``last_modified_time``."""
        self._put("customerpayments", payments)

    def add_credit_notes(self, credit_notes: Iterable[dict[str, Any]]) -> None:
        """Store credit notes: each has ``creditnote_id`` and ``last_modified_time``, and
        may have ``invoices_credited`` (served by its own endpoint, not the listing)."""
        notes = [dict(note) for note in credit_notes]
        with self._lock:
            for note in notes:
                self._credited[str(note["creditnote_id"])] = note.pop("invoices_credited", [])
        self._put("creditnotes", notes)

    def update_invoice(self, invoice_id: str, **fields: Any) -> None:
        """Change fields and move ``last_modified_time`` on (past the previous one)."""
        with self._lock:
            row = self._books["invoices"][invoice_id]
            previous = datetime.fromisoformat(row["last_modified_time"])
            moved = max(self.now().replace(microsecond=0), previous + timedelta(seconds=1))
            row.update(fields)
            row["last_modified_time"] = books_time(moved.astimezone(previous.tzinfo))

    def _put(self, resource: str, items: Iterable[dict[str, Any]]) -> None:
        key = RESOURCES[resource]
        with self._lock:
            for item in items:
                datetime.fromisoformat(item["last_modified_time"])  # must parse
                self._books[resource][str(item[key])] = dict(item)

    def _books_credited(self, request: Request, creditnote_id: str) -> Response:
        refused = self._organization_refused(request)
        if refused is not None:
            return refused
        with self._lock:
            if creditnote_id not in self._books["creditnotes"]:
                return _books_json({"code": 5, "message": "Invalid URL Passed"}, 404)
            credited = [dict(item) for item in self._credited.get(creditnote_id, [])]
        body = {"code": 0, "message": "success", "invoices_credited": credited}
        return _books_json(body, 200)

    def _organization_refused(self, request: Request) -> Response | None:
        organization = request.args.get("organization_id")
        if not organization:
            return _books_json({"code": 2, "message": "Invalid value passed for organization_id"})
        if organization != self.organization_id:
            message = "This user is not associated with the organization"
            return _books_json({"code": 6041, "message": message})
        return None

    def _books_list(self, request: Request, resource: str) -> Response:
        if resource not in RESOURCES:
            return _books_json({"code": 5, "message": "Invalid URL Passed"}, 404)
        args = request.args
        refused = self._organization_refused(request)
        if refused is not None:
            return refused
        try:
            page = int(args.get("page", "1"))
            per_page = int(args.get("per_page", "200"))
            since_text = args.get("last_modified_time")
            since = datetime.fromisoformat(since_text) if since_text else None
        except ValueError:
            return _books_json({"code": 2, "message": "Invalid value passed for a parameter"})
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE or (since and since.tzinfo is None):
            return _books_json({"code": 2, "message": "Invalid value passed for a parameter"})
        with self._lock:
            rows = list(self._books[resource].values())
        if since is not None:
            rows = [r for r in rows if datetime.fromisoformat(r["last_modified_time"]) >= since]
        offset = (page - 1) * per_page
        chunk = rows[offset : offset + per_page]
        context = {
            "page": page,
            "per_page": per_page,
            "has_more_page": offset + per_page < len(rows),
            "sort_column": "created_time",
            "sort_order": "D",
        }
        body = {"code": 0, "message": "success", resource: chunk, "page_context": context}
        return _books_json(body, 200)


def books_time(moment: datetime) -> str:
    """A time as Books writes it: ``2026-02-02T09:00:00+0530``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def _books_json(body: dict[str, Any], status: int = 400) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
