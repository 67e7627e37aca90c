"""Invoices: one document per invoice, with its payments, refunds and credit notes.

Every amount is an integer in minor units of the invoice's currency (the domain refuses
money in another). Per invoice:

- ``paid_minor`` every payment captured on it, ``refunded_minor`` every refund of
  those, ``net_paid_minor`` = paid - refunded;
- ``credited_minor`` its credit notes: billed, no longer owed;
- ``owed_minor`` = amount - credited - net paid (never below 0): a refund without a
  credit note is owed again, as the warehouse's receivables define it; below 0 (a
  credit note after the invoice was paid) the clinic owes the payer: ``balance_minor``
  keeps the sign;
- ``status``: ``paid`` (nothing owed), ``part_paid`` or ``unpaid``.

The document is written only from its own stream's events (the invoice's), so the order
in which the runner delivers other streams never matters: an appointment's payments
document meets its invoices at read time (:func:`invoice_totals`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mymedic.app.read_models.names import INVOICES
from mymedic.app.read_models.scope import upsert_entry
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Document, DocumentUnitOfWork

INVOICE_SUMS = ("invoiced_minor", "credited_minor", "invoice_paid_minor", "invoice_owed_minor")


def apply_invoices(uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    tenant = event.tenant_id
    when = event.occurred_at.isoformat()
    match data:
        case e.InvoiceIssued():
            doc: Document = {
                "tenant_id": tenant,
                "branch_id": event.branch_id,
                "invoice_id": data.invoice_id,
                "appointment_id": data.appointment_id,
                "patient_id": data.patient_id,
                "payer_type": data.payer_type.value,
                "amount_minor": data.amount_minor,
                "currency": data.currency,
                "issued_at": when,
                "due_on": data.due_on.isoformat(),
                "payments": [],
                "refunds": [],
                "credit_notes": [],
            }
            uow.put(INVOICES, tenant, data.invoice_id, _with_totals(doc))
        case e.PaymentCaptured():
            payment = {
                "payment_id": data.payment_id,
                "amount_minor": data.amount_minor,
                "mode": data.mode.value,
                "provider": data.provider,
                "paid_at": when,
            }
            _record(uow, tenant, data.invoice_id, "payments", key="payment_id", entry=payment)
        case e.RefundIssued():
            refund = {
                "refund_id": data.refund_id,
                "payment_id": data.payment_id,
                "amount_minor": data.amount_minor,
                "refunded_at": when,
            }
            _record(uow, tenant, data.invoice_id, "refunds", key="refund_id", entry=refund)
        case e.CreditNoteIssued():
            credit = {
                "credit_note_id": data.credit_note_id,
                "amount_minor": data.amount_minor,
                "source": data.source,
                "refund_id": data.refund_id,
                "credited_at": when,
            }
            _record(
                uow, tenant, data.invoice_id, "credit_notes", key="credit_note_id", entry=credit
            )


def _record(
    uow: DocumentUnitOfWork,
    tenant: str,
    invoice_id: str,
    entries: str,
    *,
    key: str,
    entry: dict[str, Any],
) -> None:
    doc = uow.get(INVOICES, tenant, invoice_id)
    if doc is None:
        raise LookupError(f"invoice {invoice_id} has no document")
    doc = dict(doc)
    doc[entries] = upsert_entry(doc[entries], key, entry)
    uow.put(INVOICES, tenant, invoice_id, _with_totals(doc))


def _with_totals(doc: Document) -> Document:
    paid = sum(p["amount_minor"] for p in doc["payments"])
    refunded = sum(r["amount_minor"] for r in doc["refunds"])
    credited = sum(c["amount_minor"] for c in doc["credit_notes"])
    owed = max(doc["amount_minor"] - credited - (paid - refunded), 0)
    status = "paid" if owed == 0 else "part_paid" if paid - refunded > 0 else "unpaid"
    doc.update(
        paid_minor=paid,
        refunded_minor=refunded,
        net_paid_minor=paid - refunded,
        credited_minor=credited,
        balance_minor=doc["amount_minor"] - credited - (paid - refunded),
        owed_minor=owed,
        status=status,
    )
    return doc


def invoice_totals(invoices: Iterable[Document]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per appointment and currency: its invoices' ids and sums (``INVOICE_SUMS``). What
    the visit still owes is its invoices' balances netted (never below 0), as the
    warehouse's revenue has it: one invoice's credit balance offsets another's."""
    totals: defaultdict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"invoices": [], **dict.fromkeys(INVOICE_SUMS, 0)}
    )
    for invoice in sorted(invoices, key=lambda doc: (doc["issued_at"], doc["invoice_id"])):
        sums = totals[(invoice["appointment_id"], invoice["currency"])]
        sums["invoices"].append(invoice["invoice_id"])
        sums["invoiced_minor"] += invoice["amount_minor"]
        sums["credited_minor"] += invoice["credited_minor"]
        sums["invoice_paid_minor"] += invoice["net_paid_minor"]
        sums["invoice_owed_minor"] += invoice["amount_minor"] - invoice["credited_minor"]
        sums["invoice_owed_minor"] -= invoice["net_paid_minor"]
    for sums in totals.values():
        sums["invoice_owed_minor"] = max(sums["invoice_owed_minor"], 0)
    return dict(totals)
