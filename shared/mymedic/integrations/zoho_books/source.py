"""The port the Books sync reads from: invoices, customer payments and credit notes
modified since a watermark, as records (``modified_time`` is Books' ``last_modified_time``).
A credit note's record carries ``invoices_credited``: the invoices it was applied to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from mymedic.integrations.zoho.records import ZohoRecord

INVOICES = "books_invoices"  # the records' ``module``, and their watermark's name
PAYMENTS = "books_customerpayments"
CREDIT_NOTES = "books_creditnotes"


class InvoiceSource(Protocol):
    def invoices(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]: ...

    def customer_payments(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]: ...

    def credit_notes(self, modified_since: datetime | None = None) -> Iterator[ZohoRecord]: ...
