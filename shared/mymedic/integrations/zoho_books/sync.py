"""The Books sync: invoices, then customer payments, then credit notes, each read since
its watermark.

Like the CRM delta sync (:mod:`mymedic.integrations.zoho.delta`), each listing asks
for what changed since its watermark (``zoho_sync:books_invoices``,
``zoho_sync:books_customerpayments``, ``zoho_sync:books_creditnotes``) less an
overlap, applies every record (one transaction each; what was applied already plans
nothing) and only then moves the
watermark to the newest ``last_modified_time`` seen: a run that fails midway keeps
what it applied and reads the same window again next time. Invoices go first, so a
payment or credit note finds the invoice a record of the same run issued."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mymedic.app.commands import utc_now
from mymedic.integrations.zoho.delta import advance_watermark
from mymedic.integrations.zoho.mapping import TenantMapping
from mymedic.integrations.zoho.records import ZohoRecord
from mymedic.integrations.zoho.streams import sync_state, sync_stream
from mymedic.integrations.zoho_books.apply import (
    SOURCE,
    ItemPlan,
    plan_credit_note,
    plan_invoice,
    plan_payment,
)
from mymedic.integrations.zoho_books.source import (
    CREDIT_NOTES,
    INVOICES,
    PAYMENTS,
    InvoiceSource,
)
from mymedic.ports import ConcurrencyConflict, EventIdReused, EventStore

log = logging.getLogger(__name__)

DEFAULT_OVERLAP = timedelta(minutes=5)
MAX_ATTEMPTS = 5  # per record: each lost race plans it again from fresh reads


@dataclass
class ListingResult:
    module: str
    since: datetime | None  # what was asked of Books (the watermark less the overlap)
    watermark: datetime | None  # after the run
    advanced: bool = False
    seen: int = 0
    applied: int = 0  # events appended to invoice streams
    review: int = 0  # items recorded for review
    unchanged: int = 0  # records that planned nothing (applied before, or nothing to do)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "since": self.since.isoformat() if self.since else None,
            "watermark": self.watermark.isoformat() if self.watermark else None,
        }


@dataclass
class BooksSyncResult:
    listings: list[ListingResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {listing.module: listing.to_dict() for listing in self.listings}


class ZohoBooksSync:
    def __init__(
        self,
        source: InvoiceSource,
        store: EventStore,
        mapping: TenantMapping,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if mapping.books is None:
            raise ValueError(f"the Zoho mapping of {mapping.tenant_id} has no [books] table")
        if overlap < timedelta(0):
            raise ValueError("the overlap cannot be negative")
        self._source = source
        self._store = store
        self._mapping = mapping
        self._books = mapping.books
        self._overlap = overlap
        self._clock = clock

    def watermark(self, module: str) -> datetime | None:
        stream = self._store.read_stream(self._mapping.tenant_id, sync_stream(module))
        return sync_state(stream).modified_through

    def run(self) -> BooksSyncResult:
        return BooksSyncResult(
            [
                self._listing(INVOICES, self._source.invoices, plan_invoice),
                self._listing(PAYMENTS, self._source.customer_payments, plan_payment),
                self._listing(CREDIT_NOTES, self._source.credit_notes, plan_credit_note),
            ]
        )

    def _listing(
        self,
        module: str,
        read: Callable[[datetime | None], Iterator[ZohoRecord]],
        plan: Callable[[ItemPlan], None],
    ) -> ListingResult:
        tenant = self._mapping.tenant_id
        state = sync_state(self._store.read_stream(tenant, sync_stream(module)))
        since = state.modified_through - self._overlap if state.modified_through else None
        result = ListingResult(module, since, state.modified_through)
        newest: datetime | None = None
        for record in read(since):  # raises (after the client's retries): watermark kept
            result.seen += 1
            self._apply(record, plan, result)
            if newest is None or record.modified_time > newest:
                newest = record.modified_time
        if newest is not None and (
            state.modified_through is None or newest > state.modified_through
        ):
            result.advanced = advance_watermark(
                self._store,
                tenant,
                module,
                newest,
                result.seen,
                clock=self._clock,
                source=SOURCE,
                state=state,
            )
            result.watermark = self.watermark(module)
        return result

    def _apply(
        self, record: ZohoRecord, plan: Callable[[ItemPlan], None], result: ListingResult
    ) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            item = ItemPlan(self._store, self._mapping, self._books, record, self._clock())
            plan(item)
            appends = item.streams.appends()
            if not appends:
                result.unchanged += 1
                return
            try:
                written = self._store.append_streams(self._mapping.tenant_id, appends)
            except (ConcurrencyConflict, EventIdReused) as exc:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.info("Books record lost a race (%s); planning it again", type(exc).__name__)
                continue
            if all(outcome.duplicate for outcome in written):
                result.unchanged += 1
            else:
                result.applied += item.planned.applied
                result.review += item.planned.reviews
            return
