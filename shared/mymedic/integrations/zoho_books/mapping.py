"""Books invoices, customer payments and credit notes read into what our invoice
commands need.

Our invoice id is ``zb-{Books invoice_id}``, a payment's ``zb-{Books payment_id}`` and a
credit note's application to an invoice ``zb-{creditnote_id}:{creditnote_invoice_id}``
(a note may be applied to several invoices, and to one in several goes);
the appointment (and optionally the branch) come from the invoice's custom fields the
tenant's ``[books]`` mapping names. A value that cannot be read is :class:`Unmappable`,
whose reason names the problem, never the value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from mymedic.domain import commands as c
from mymedic.domain.money import to_minor_units
from mymedic.domain.types import PayerType, PaymentMode
from mymedic.integrations.zoho.records import ZohoRecord
from mymedic.integrations.zoho_books.config import BooksMapping

ID_PREFIX = "zb-"
VOID = "void"
# Books payment_mode -> ours. Any other (bank transfer, cheque...) reads as card: our
# payments have no field to keep Books' own name of it.
MODES = {"cash": PaymentMode.CASH, "upi": PaymentMode.UPI, "creditcard": PaymentMode.CARD}


class Unmappable(ValueError):
    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass(frozen=True)
class BooksInvoice:
    invoice_id: str  # ours
    status: str
    currency: str
    total_minor: int
    due_on: date
    appointment_id: str | None
    branch_id: str | None
    occurred_at: datetime

    @property
    def void(self) -> bool:
        return self.status == VOID


@dataclass(frozen=True)
class Application:
    """The part of a payment applied to one invoice."""

    invoice_id: str  # ours
    amount_minor: int


@dataclass(frozen=True)
class BooksPayment:
    payment_id: str  # ours
    currency: str
    mode: PaymentMode
    reference: str | None
    applications: tuple[Application, ...]
    occurred_at: datetime


@dataclass(frozen=True)
class Credit:
    """A credit note's application to one invoice."""

    credit_note_id: str  # ours: one per application
    invoice_id: str  # ours
    amount_minor: int
    occurred_at: datetime  # when it was applied (the application's date)


@dataclass(frozen=True)
class BooksCreditNote:
    status: str
    currency: str
    credits: tuple[Credit, ...]
    occurred_at: datetime

    @property
    def void(self) -> bool:
        return self.status == VOID


def read_credit_note(record: ZohoRecord, zone: ZoneInfo) -> BooksCreditNote:
    fields = record.fields
    currency = _text(fields, "currency_code")
    if currency is None:
        raise Unmappable("no currency_code", "currency_code")
    credits = []
    day = _date(fields, "date")
    raw = fields.get("invoices_credited")
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            raise Unmappable("a credited invoice that is not an object", "invoices_credited")
        invoice = _text(item, "invoice_id")
        application = _text(item, "creditnote_invoice_id")
        if invoice is None or application is None:
            raise Unmappable(
                "a credited invoice without invoice_id or creditnote_invoice_id",
                "invoices_credited",
            )
        amount = _money(item, "credited_amount", currency)
        if amount > 0:
            ours = f"{ID_PREFIX}{record.record_id}:{application}"
            applied = _occurred(record, _date(item, "date") or day, zone)
            credits.append(Credit(ours, f"{ID_PREFIX}{invoice}", amount, applied))
    return BooksCreditNote(
        status=(_text(fields, "status") or "").lower(),
        currency=currency,
        credits=tuple(credits),
        occurred_at=_occurred(record, day, zone),
    )


def read_invoice(record: ZohoRecord, books: BooksMapping, zone: ZoneInfo) -> BooksInvoice:
    fields = record.fields
    currency = _text(fields, "currency_code")
    if currency is None:
        raise Unmappable("no currency_code", "currency_code")
    day = _date(fields, "date")
    return BooksInvoice(
        invoice_id=f"{ID_PREFIX}{record.record_id}",
        status=(_text(fields, "status") or "").lower(),
        currency=currency,
        total_minor=_money(fields, "total", currency),
        due_on=_date(fields, "due_date") or day or record.modified_time.date(),
        appointment_id=custom_field(fields, books.appointment_field),
        branch_id=custom_field(fields, books.branch_field) if books.branch_field else None,
        occurred_at=_occurred(record, day, zone),
    )


def read_payment(record: ZohoRecord, zone: ZoneInfo) -> BooksPayment:
    fields = record.fields
    currency = _text(fields, "currency_code")
    if currency is None:
        raise Unmappable("no currency_code", "currency_code")
    books_mode = _text(fields, "payment_mode") or ""
    applications = []
    raw = fields.get("invoices")
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            raise Unmappable("an applied invoice that is not an object", "invoices")
        invoice = _text(item, "invoice_id")
        amount = _money(item, "amount_applied", currency)
        if invoice is None:
            raise Unmappable("an applied invoice without invoice_id", "invoices")
        if amount > 0:
            applications.append(Application(f"{ID_PREFIX}{invoice}", amount))
    return BooksPayment(
        payment_id=f"{ID_PREFIX}{record.record_id}",
        currency=currency,
        mode=MODES.get(books_mode.lower(), PaymentMode.CARD),
        reference=_text(fields, "reference_number"),
        applications=tuple(applications),
        occurred_at=_occurred(record, _date(fields, "date"), zone),
    )


def issue_invoice(
    invoice: BooksInvoice,
    *,
    tenant_id: str,
    branch_id: str,
    patient_id: str,
    payer_type: PayerType,
) -> c.IssueInvoice:
    assert invoice.appointment_id is not None  # noqa: S101 - an unlinked one is reviewed
    return c.IssueInvoice(
        tenant_id=tenant_id,
        branch_id=branch_id,
        occurred_at=invoice.occurred_at,
        invoice_id=invoice.invoice_id,
        appointment_id=invoice.appointment_id,
        patient_id=patient_id,
        payer_type=payer_type,
        amount_minor=invoice.total_minor,
        currency=invoice.currency,
        due_on=invoice.due_on,
    )


def capture_payment(
    payment: BooksPayment, application: Application, *, tenant_id: str, branch_id: str
) -> c.CapturePayment:
    return c.CapturePayment(
        tenant_id=tenant_id,
        branch_id=branch_id,
        occurred_at=payment.occurred_at,
        invoice_id=application.invoice_id,
        payment_id=payment.payment_id,
        amount_minor=application.amount_minor,
        currency=payment.currency,
        mode=payment.mode,
        provider="cash" if payment.mode is PaymentMode.CASH else "zoho_books",
        provider_reference=payment.reference,
    )


def issue_credit_note(
    note: BooksCreditNote, credit: Credit, *, tenant_id: str, branch_id: str
) -> c.IssueCreditNote:
    return c.IssueCreditNote(
        tenant_id=tenant_id,
        branch_id=branch_id,
        occurred_at=credit.occurred_at,
        invoice_id=credit.invoice_id,
        credit_note_id=credit.credit_note_id,
        amount_minor=credit.amount_minor,
        currency=note.currency,
        reason="Zoho Books credit note",
    )


def custom_field(fields: Mapping[str, Any], name: str) -> str | None:
    """A custom field's value: top level in listings (``cf_x``), or in the
    ``custom_fields`` list of a single record's answer."""
    value = _text(fields, name)
    if value is not None:
        return value
    listed = fields.get("custom_fields")
    for item in listed if isinstance(listed, list) else []:
        if isinstance(item, Mapping) and item.get("api_name") == name:
            return _text(item, "value")
    return None


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value).strip() or None


def _money(fields: Mapping[str, Any], name: str, currency: str) -> int:
    value = fields.get(name)
    if value is None or isinstance(value, bool | float | dict | list):
        raise Unmappable(f"{name} is missing or not a decimal number", name)
    try:
        return to_minor_units(value, currency)
    except ValueError as exc:
        raise Unmappable(f"{name}: {exc}", name) from None


def _date(fields: Mapping[str, Any], name: str) -> date | None:
    text = _text(fields, name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unmappable(f"{name} is not a date (yyyy-mm-dd)", name) from None


def _occurred(record: ZohoRecord, day: date | None, zone: ZoneInfo) -> datetime:
    """When it happened: the record's created (else modified) time if that falls on its
    ``date`` in the tenant's zone; otherwise (entered later, back-dated) the start of
    that date."""
    created = _text(record.fields, "created_time")
    when = record.modified_time
    if created is not None:
        try:
            parsed = datetime.fromisoformat(created)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.utcoffset() is not None:
            when = parsed
    if day is None or when.astimezone(zone).date() == day:
        return when
    return datetime.combine(day, time(0), zone)
