"""Payments per appointment: one document per appointment, and summaries over them.

Every amount is an integer in minor units of the appointment's currency (the domain
refuses a payment or refund in another); totals are kept per currency, never mixed.

Per appointment:

- ``paid_minor``: every payment taken (deposits included); ``deposits_minor`` the
  deposits among them; ``refunded_minor`` every refund; ``forfeited_minor`` the
  deposits kept under the cancellation policy (money already paid, so it is part of
  what the clinic holds, not an extra charge);
- ``net_paid_minor`` = paid - refunded: what the clinic holds;
- while the appointment stands (booked, arrived, completed): ``charge_minor`` is its
  price, ``balance_minor`` = price - net paid (still owed by the patient) and
  ``refund_due_minor`` is 0;
- once cancelled or missed (no-show): ``charge_minor`` is the forfeited amount (what
  the clinic keeps), ``balance_minor`` is 0 (nothing more is owed) and
  ``refund_due_minor`` = net paid - forfeited (paid and neither refunded nor kept);
- ``status``: ``paid`` (balance 0), ``part_paid`` or ``unpaid`` while it stands;
  ``refund_due`` or ``settled`` once cancelled or missed. ``appointment_status`` is the
  appointment's own.

Each total is recomputed from the lists of payments, refunds and forfeitures on every
change, so a document never drifts from its events.

A read meets each appointment with its invoices (``invoices`` collection, see
:mod:`invoices`): ``invoiced_minor``, ``credited_minor``, ``invoice_paid_minor`` (net of
refunds) and ``invoice_owed_minor``; ``total_paid_minor`` = net paid on the appointment
+ net paid on its invoices. Once a standing appointment is invoiced, its charge is what
was billed (net paid on the appointment + invoiced - credited) and its balance is what
its invoices still owe, as the warehouse's revenue defines them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mymedic.app.read_models.invoices import INVOICE_SUMS, invoice_totals
from mymedic.app.read_models.names import INVOICES, PAYMENTS
from mymedic.app.read_models.schedule import instant
from mymedic.app.read_models.scope import branches_in_scope, scoped_query, upsert_entry
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Document, DocumentStore, DocumentUnitOfWork

STANDING = frozenset({"booked", "arrived", "completed"})
SUMMED = (
    "charge_minor",
    "paid_minor",
    "deposits_minor",
    "refunded_minor",
    "forfeited_minor",
    "net_paid_minor",
    "balance_minor",
    "refund_due_minor",
    *INVOICE_SUMS,
    "total_paid_minor",
)
_STATUS_AFTER: dict[type[e.EventPayload], str] = {
    e.AppointmentCancelled: "cancelled",
    e.AppointmentArrived: "arrived",
    e.AppointmentCompleted: "completed",
    e.AppointmentNoShow: "no_show",
}


def apply_payments(uow: DocumentUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    tenant = event.tenant_id
    when = event.occurred_at.isoformat()
    match data:
        case e.AppointmentBooked():
            doc: Document = {
                "tenant_id": tenant,
                "branch_id": event.branch_id,
                "appointment_id": data.appointment_id,
                "patient_id": data.patient_id,
                "clinician_id": data.clinician_id,
                "procedure_code": data.procedure_code,
                "start_at": data.start_at.isoformat(),
                "date": data.start_at.date().isoformat(),
                "appointment_status": "booked",
                "price_minor": data.price_minor,
                "currency": data.currency,
                "payments": [],
                "refunds": [],
                "forfeitures": [],
            }
            uow.put(PAYMENTS, tenant, data.appointment_id, _with_totals(doc))
        case e.AppointmentRescheduled():
            doc = _existing(uow, tenant, data.appointment_id)
            doc.update(
                clinician_id=data.clinician_id,
                start_at=data.start_at.isoformat(),
                date=data.start_at.date().isoformat(),
            )
            uow.put(PAYMENTS, tenant, data.appointment_id, doc)
        case (
            e.AppointmentCancelled()
            | e.AppointmentArrived()
            | e.AppointmentCompleted()
            | e.AppointmentNoShow()
        ):
            doc = _existing(uow, tenant, data.appointment_id)
            doc["appointment_status"] = _STATUS_AFTER[type(data)]
            uow.put(PAYMENTS, tenant, data.appointment_id, _with_totals(doc))
        case e.AppointmentPaymentTaken():
            payment = {
                "payment_id": data.payment_id,
                "kind": data.kind.value,
                "amount_minor": data.amount_minor,
                "currency": data.currency,
                "mode": data.mode.value,
                "provider": data.provider,
                "taken_at": when,
            }
            _record(uow, tenant, data.appointment_id, "payments", key="payment_id", entry=payment)
        case e.AppointmentPaymentRefunded():
            refund = {
                "refund_id": data.refund_id,
                "payment_id": data.payment_id,
                "amount_minor": data.amount_minor,
                "currency": data.currency,
                "reason": data.reason,
                "refunded_at": when,
            }
            _record(uow, tenant, data.appointment_id, "refunds", key="refund_id", entry=refund)
        case e.DepositForfeited():
            forfeiture = {
                "event_id": event.event_id,
                "amount_minor": data.amount_minor,
                "currency": data.currency,
                "trigger": data.trigger,
                "forfeited_at": when,
            }
            _record(
                uow, tenant, data.appointment_id, "forfeitures", key="event_id", entry=forfeiture
            )


def _record(
    uow: DocumentUnitOfWork,
    tenant: str,
    appointment_id: str,
    entries: str,
    *,
    key: str,
    entry: dict[str, Any],
) -> None:
    """Add a money movement to the appointment's document and recompute its totals."""
    doc = _existing(uow, tenant, appointment_id)
    doc[entries] = upsert_entry(doc[entries], key, entry)
    uow.put(PAYMENTS, tenant, appointment_id, _with_totals(doc))


def _existing(uow: DocumentUnitOfWork, tenant: str, appointment_id: str) -> Document:
    doc = uow.get(PAYMENTS, tenant, appointment_id)
    if doc is None:
        raise LookupError(f"appointment {appointment_id} has no payments document")
    return dict(doc)


def _with_totals(doc: Document) -> Document:
    paid = sum(p["amount_minor"] for p in doc["payments"])
    deposits = sum(p["amount_minor"] for p in doc["payments"] if p["kind"] == "deposit")
    refunded = sum(r["amount_minor"] for r in doc["refunds"])
    forfeited = sum(f["amount_minor"] for f in doc["forfeitures"])
    net_paid = paid - refunded
    if doc["appointment_status"] in STANDING:
        charge, balance, refund_due = doc["price_minor"], doc["price_minor"] - net_paid, 0
        status = "paid" if balance <= 0 else "part_paid" if net_paid > 0 else "unpaid"
    else:
        charge, balance, refund_due = forfeited, 0, net_paid - forfeited
        status = "refund_due" if refund_due > 0 else "settled"
    doc.update(
        charge_minor=charge,
        paid_minor=paid,
        deposits_minor=deposits,
        refunded_minor=refunded,
        forfeited_minor=forfeited,
        net_paid_minor=net_paid,
        balance_minor=balance,
        refund_due_minor=refund_due,
        status=status,
    )
    return doc


def payments_summary(
    documents: DocumentStore,
    tenant_id: str,
    *,
    branch_id: str | None = None,
    patient_id: str | None = None,
    appointment_id: str | None = None,
    clinician_id: str | None = None,
    city: str | None = None,
) -> dict[str, Any]:
    """The appointments' payment documents matching every filter given (in start
    order), with their sums per currency and per patient and currency."""
    branches = branches_in_scope(documents, tenant_id, branch_id, city)
    wanted = {"patient_id": patient_id, "clinician_id": clinician_id}
    if appointment_id is not None:
        one = documents.get(PAYMENTS, tenant_id, appointment_id)
        rows = [one] if one is not None and _matches(one, wanted, branches) else []
        invoices = documents.query(INVOICES, tenant_id, {"appointment_id": appointment_id})
    else:
        rows = scoped_query(documents, PAYMENTS, tenant_id, wanted, branches)
        invoices = scoped_query(
            documents, INVOICES, tenant_id, {"patient_id": patient_id}, branches
        )
    billed = invoice_totals(invoices)
    rows = [
        _with_invoices(row, billed.get((row["appointment_id"], row["currency"]))) for row in rows
    ]
    rows.sort(key=lambda row: (instant(row["start_at"]), row["appointment_id"]))
    by_patient: defaultdict[tuple[str, str], list[Document]] = defaultdict(list)
    by_currency: defaultdict[str, list[Document]] = defaultdict(list)
    for row in rows:
        by_patient[(row["patient_id"], row["currency"])].append(row)
        by_currency[row["currency"]].append(row)
    return {
        "tenant_id": tenant_id,
        "appointments": rows,
        "totals": [{"currency": cur, **_sums(group)} for cur, group in sorted(by_currency.items())],
        "by_patient": [
            {"patient_id": patient, "currency": cur, **_sums(group)}
            for (patient, cur), group in sorted(by_patient.items())
        ],
    }


def _with_invoices(doc: Document, invoiced: dict[str, Any] | None) -> Document:
    sums = invoiced or {"invoices": [], **dict.fromkeys(INVOICE_SUMS, 0)}
    row = {**doc, **sums, "total_paid_minor": doc["net_paid_minor"] + sums["invoice_paid_minor"]}
    if invoiced and doc["appointment_status"] in STANDING:
        owed = sums["invoice_owed_minor"]
        row["charge_minor"] = (
            doc["net_paid_minor"] + sums["invoiced_minor"] - sums["credited_minor"]
        )
        row["balance_minor"] = owed
        row["status"] = (
            "paid" if owed <= 0 else "part_paid" if row["total_paid_minor"] else "unpaid"
        )
    return row


def _matches(doc: Document, wanted: dict[str, str | None], branches: list[str] | None) -> bool:
    if branches is not None and doc["branch_id"] not in branches:
        return False
    return all(value is None or doc.get(name) == value for name, value in wanted.items())


def _sums(rows: list[Document]) -> dict[str, int]:
    return {"appointments": len(rows), **{name: sum(row[name] for row in rows) for name in SUMMED}}
