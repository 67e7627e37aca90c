"""The warehouse's money facts: ``fct_invoice``, ``fct_payment``, ``fct_refund`` and
``fct_forfeiture``. Part of the warehouse facts projection.

Every row is keyed by the business ids its event carries, so a replay or a rebuild
writes the same rows again; amounts stay integer minor units with their currency.
Appointment payments take the patient from fct_appointment, invoice payments and
refunds the appointment and patient from fct_invoice: both come first in the event's
own stream, so the rows never depend on the order in which streams are delivered.
Rows hold instants; the marts (int_payment, ...) add the branch's calendar dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Row, WarehouseUnitOfWork

INVOICES = "fct_invoice"
PAYMENTS = "fct_payment"
REFUNDS = "fct_refund"
FORFEITURES = "fct_forfeiture"
MONEY_TABLES = (INVOICES, PAYMENTS, REFUNDS, FORFEITURES)
_APPOINTMENTS = "fct_appointment"  # facts.APPOINTMENTS, which imports this module

EVENT_TYPES = frozenset(
    model.event_type
    for model in (
        e.InvoiceIssued,
        e.PaymentCaptured,
        e.RefundIssued,
        e.AppointmentPaymentTaken,
        e.AppointmentPaymentRefunded,
        e.DepositForfeited,
    )
)


def prefetch_money(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    invoices = [
        (ev.tenant_id, ev.payload["invoice_id"])
        for ev in events
        if ev.category == "invoice" and "invoice_id" in ev.payload
    ]
    if invoices:
        uow.prefetch(INVOICES, invoices)


def apply_money(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    tenant = event.tenant_id
    branch = str(event.branch_id)
    common = {
        "tenant_id": tenant,
        "branch_id": branch,
        "recorded_at": event.recorded_at,
        "updated_at": event.occurred_at,
        "last_event_id": event.event_id,
    }
    match data:
        case e.InvoiceIssued():
            uow.put_row(
                INVOICES,
                {
                    **common,
                    "invoice_id": data.invoice_id,
                    "appointment_id": data.appointment_id,
                    "patient_id": data.patient_id,
                    "payer_type": data.payer_type.value,
                    "amount_minor": data.amount_minor,
                    "currency": data.currency,
                    "issued_at": event.occurred_at,
                    "due_on": data.due_on,
                },
            )
        case e.AppointmentPaymentTaken():
            apt = _row(uow, _APPOINTMENTS, tenant, data.appointment_id)
            uow.put_row(
                PAYMENTS,
                {
                    **common,
                    **_appointment_source(data.appointment_id, apt),
                    "payment_id": data.payment_id,
                    "kind": data.kind.value,
                    **_paid(event, data.mode.value, data.provider),
                    **_money(data.amount_minor, data.currency),
                },
            )
        case e.PaymentCaptured():
            invoice = _row(uow, INVOICES, tenant, data.invoice_id)
            uow.put_row(
                PAYMENTS,
                {
                    **common,
                    **_invoice_source(invoice),
                    "payment_id": data.payment_id,
                    "kind": "payment",
                    **_paid(event, data.mode.value, data.provider),
                    **_money(data.amount_minor, data.currency),
                },
            )
        case e.AppointmentPaymentRefunded():
            apt = _row(uow, _APPOINTMENTS, tenant, data.appointment_id)
            source = _appointment_source(data.appointment_id, apt)
            uow.put_row(REFUNDS, {**common, **source, **_refund(event, data)})
        case e.RefundIssued():
            invoice = _row(uow, INVOICES, tenant, data.invoice_id)
            uow.put_row(REFUNDS, {**common, **_invoice_source(invoice), **_refund(event, data)})
        case e.DepositForfeited():
            apt = _row(uow, _APPOINTMENTS, tenant, data.appointment_id)
            uow.put_row(
                FORFEITURES,
                {
                    **common,
                    "appointment_id": data.appointment_id,
                    "forfeiture_id": event.event_id,
                    "patient_id": apt["patient_id"],
                    "trigger": data.trigger,
                    **_money(data.amount_minor, data.currency),
                    "hours_before_start": float(data.hours_before_start),
                    "policy_within_hours": data.policy_within_hours,
                    "policy_percent": data.policy_percent,
                    "forfeited_at": event.occurred_at,
                },
            )


def _row(uow: WarehouseUnitOfWork, table: str, tenant_id: str, entity_id: str) -> Row:
    row = uow.get_row(table, (tenant_id, entity_id))
    if row is None:
        raise LookupError(f"{table} has no {entity_id} of {tenant_id}")
    return row


def _appointment_source(appointment_id: str, appointment: Row) -> dict[str, Any]:
    return {
        "source": "appointment",
        "source_id": appointment_id,
        "appointment_id": appointment_id,
        "invoice_id": None,
        "patient_id": appointment["patient_id"],
    }


def _invoice_source(invoice: Row) -> dict[str, Any]:
    return {
        "source": "invoice",
        "source_id": invoice["invoice_id"],
        "appointment_id": invoice["appointment_id"],
        "invoice_id": invoice["invoice_id"],
        "patient_id": invoice["patient_id"],
    }


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency}


def _paid(event: EventEnvelope, mode: str, provider: str) -> dict[str, Any]:
    return {"mode": mode, "provider": provider, "paid_at": event.occurred_at}


def _refund(
    event: EventEnvelope, data: e.AppointmentPaymentRefunded | e.RefundIssued
) -> dict[str, Any]:
    return {
        "refund_id": data.refund_id,
        "payment_id": data.payment_id,
        **_money(data.amount_minor, data.currency),
        "reason": data.reason,
        "refunded_at": event.occurred_at,
    }
