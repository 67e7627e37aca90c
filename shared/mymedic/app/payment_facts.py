"""The warehouse's money facts: ``fct_invoice``, ``fct_payment``, ``fct_refund``,
``fct_credit_note``, ``fct_forfeiture`` and ``fct_appointment_revenue``. Part of the warehouse facts
projection.

Every row is keyed by the business ids its event carries, so a replay or a rebuild
writes the same rows again; amounts stay integer minor units with their currency.
Appointment payments take the patient from fct_appointment, invoice payments and
refunds the appointment and patient from fct_invoice: both come first in the event's
own stream, so the rows never depend on the order in which streams are delivered.
Rows hold instants and the branch's calendar date of each (``branch_facts.local_date``).

``fct_appointment_revenue`` sums an appointment's invoices, credit notes, payments and
refunds per
currency as they come: each adds its amount less that of the row it replaces (the
fact table's row of the same id, if any), so a fact written again (a replay, a later
fact of the same id) changes the sums by its difference only, never twice. A rebuild
resets every table and replays the store from the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from mymedic.app.branch_facts import local_date, prefetch_branch_keys
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import Row, WarehouseUnitOfWork

INVOICES = "fct_invoice"
PAYMENTS = "fct_payment"
REFUNDS = "fct_refund"
CREDITS = "fct_credit_note"
FORFEITURES = "fct_forfeiture"
REVENUE = "fct_appointment_revenue"
MONEY_TABLES = (INVOICES, PAYMENTS, REFUNDS, CREDITS, FORFEITURES, REVENUE)
_APPOINTMENTS = "fct_appointment"  # facts.APPOINTMENTS, which imports this module

EVENT_TYPES = frozenset(
    model.event_type
    for model in (
        e.InvoiceIssued,
        e.PaymentCaptured,
        e.RefundIssued,
        e.CreditNoteIssued,
        e.AppointmentPaymentTaken,
        e.AppointmentPaymentRefunded,
        e.DepositForfeited,
    )
)


def prefetch_money(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    money = [ev for ev in events if ev.event_type in EVENT_TYPES]
    if not money:
        return
    invoices = [
        (ev.tenant_id, ev.payload["invoice_id"])
        for ev in money
        if ev.category == "invoice" and "invoice_id" in ev.payload
    ]
    if invoices:
        uow.prefetch(INVOICES, invoices)
    prefetch_branch_keys(uow, ((ev.tenant_id, str(ev.branch_id)) for ev in money))
    payments: list[tuple[str, ...]] = []
    refunds: list[tuple[str, ...]] = []
    credits: list[tuple[str, ...]] = []
    # The appointment of an invoice issued in this batch, for the invoice's payments.
    issued = {
        (ev.tenant_id, ev.payload["invoice_id"]): ev.payload["appointment_id"]
        for ev in money
        if ev.event_type == e.InvoiceIssued.event_type
    }
    revenue: list[tuple[str, ...]] = []
    for ev in money:
        p = ev.payload
        if ev.category == "invoice":
            source, source_id = "invoice", p["invoice_id"]
            invoice = uow.get_row(INVOICES, (ev.tenant_id, source_id))
            appointment = p.get("appointment_id") or issued.get((ev.tenant_id, source_id))
            appointment = appointment or (invoice["appointment_id"] if invoice else None)
        else:
            source, source_id = "appointment", p["appointment_id"]
            appointment = source_id
        if "credit_note_id" in p:
            credits.append((ev.tenant_id, source_id, p["credit_note_id"]))
        elif "refund_id" in p:
            refunds.append((ev.tenant_id, source, source_id, p["refund_id"]))
        elif "payment_id" in p:
            payments.append((ev.tenant_id, source, source_id, p["payment_id"]))
        if appointment and (
            "payment_id" in p
            or "credit_note_id" in p
            or ev.event_type == e.InvoiceIssued.event_type
        ):
            revenue.append((ev.tenant_id, appointment, p["currency"]))
    for table, keys in (
        (PAYMENTS, payments),
        (REFUNDS, refunds),
        (CREDITS, credits),
        (REVENUE, revenue),
    ):
        if keys:
            uow.prefetch(table, keys)


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
            row = {
                **common,
                "invoice_id": data.invoice_id,
                "appointment_id": data.appointment_id,
                "patient_id": data.patient_id,
                "payer_type": data.payer_type.value,
                "amount_minor": data.amount_minor,
                "currency": data.currency,
                "issued_at": event.occurred_at,
                "due_on": data.due_on,
                "issued_date": _local(uow, event),
            }
            _add_revenue(uow, event, INVOICES, row, 1)
            uow.put_row(INVOICES, row)
        case e.AppointmentPaymentTaken():
            apt = _row(uow, _APPOINTMENTS, tenant, data.appointment_id)
            row = {
                **common,
                **_appointment_source(data.appointment_id, apt),
                "payment_id": data.payment_id,
                "kind": data.kind.value,
                **_paid(uow, event, data.mode.value, data.provider),
                **_money(data.amount_minor, data.currency),
            }
            _add_revenue(uow, event, PAYMENTS, row, 1)
            uow.put_row(PAYMENTS, row)
        case e.PaymentCaptured():
            invoice = _row(uow, INVOICES, tenant, data.invoice_id)
            row = {
                **common,
                **_invoice_source(invoice),
                "payment_id": data.payment_id,
                "kind": "payment",
                **_paid(uow, event, data.mode.value, data.provider),
                **_money(data.amount_minor, data.currency),
            }
            _add_revenue(uow, event, PAYMENTS, row, 1)
            uow.put_row(PAYMENTS, row)
        case e.AppointmentPaymentRefunded():
            apt = _row(uow, _APPOINTMENTS, tenant, data.appointment_id)
            source = _appointment_source(data.appointment_id, apt)
            row = {**common, **source, **_refund(uow, event, data)}
            _add_revenue(uow, event, REFUNDS, row, -1)
            uow.put_row(REFUNDS, row)
        case e.RefundIssued():
            invoice = _row(uow, INVOICES, tenant, data.invoice_id)
            row = {**common, **_invoice_source(invoice), **_refund(uow, event, data)}
            _add_revenue(uow, event, REFUNDS, row, -1)
            uow.put_row(REFUNDS, row)
        case e.CreditNoteIssued():
            invoice = _row(uow, INVOICES, tenant, data.invoice_id)
            row = {
                **common,
                **_invoice_source(invoice),
                "credit_note_id": data.credit_note_id,
                "origin": data.source,
                "refund_id": data.refund_id,
                **_money(data.amount_minor, data.currency),
                "credited_at": event.occurred_at,
                "credited_date": _local(uow, event),
            }
            _add_revenue(uow, event, CREDITS, row, 1)
            uow.put_row(CREDITS, row)
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
                    "forfeited_date": _local(uow, event),
                },
            )


def _add_revenue(
    uow: WarehouseUnitOfWork, event: EventEnvelope, table: str, row: Row, sign: int
) -> None:
    """Add ``row`` (an invoice, payment or refund about to be written to ``table``) to
    its appointment's revenue, less the row of the same key it replaces."""
    key = tuple(row[k] for k in _KEYS[table])
    earlier = uow.get_row(table, key)
    if earlier is not None:
        _revenue_delta(uow, event, table, earlier, -sign, latest=False)
    _revenue_delta(uow, event, table, row, sign, latest=True)


_KEYS = {
    INVOICES: ("tenant_id", "invoice_id"),
    PAYMENTS: ("tenant_id", "source", "source_id", "payment_id"),
    REFUNDS: ("tenant_id", "source", "source_id", "refund_id"),
    CREDITS: ("tenant_id", "invoice_id", "credit_note_id"),
}


def _revenue_delta(
    uow: WarehouseUnitOfWork,
    event: EventEnvelope,
    table: str,
    fact: Row,
    sign: int,
    *,
    latest: bool,
) -> None:
    key = (fact["tenant_id"], fact["appointment_id"], fact["currency"])
    current = uow.get_row(REVENUE, key) or {
        "tenant_id": key[0],
        "appointment_id": key[1],
        "currency": key[2],
        "payer_type": None,
        "latest_invoice_at": None,
        "prepaid_minor": 0,
        "invoiced_minor": 0,
        "paid_minor": 0,
        "paid_on_invoices_minor": 0,
        "credited_minor": 0,
    }
    amount = sign * fact["amount_minor"]
    # The latest event to touch the row, whatever the order they are applied in.
    changes: dict[str, Any] = {}
    if "updated_at" not in current or (current["updated_at"], current["last_event_id"]) < (
        event.occurred_at,
        event.event_id,
    ):
        changes |= {"updated_at": event.occurred_at, "last_event_id": event.event_id}
    if table == INVOICES:
        changes["invoiced_minor"] = current["invoiced_minor"] + amount
        issued_at = fact["issued_at"]
        previous_at = current["latest_invoice_at"]
        newer = previous_at is None or issued_at > previous_at
        tie = issued_at == previous_at and fact["payer_type"] > (current["payer_type"] or "")
        if latest and (newer or tie):
            changes |= {"payer_type": fact["payer_type"], "latest_invoice_at": issued_at}
    elif table == CREDITS:
        # Null in a row written before credit notes were kept.
        changes["credited_minor"] = (current.get("credited_minor") or 0) + amount
    else:
        changes["paid_minor"] = current["paid_minor"] + amount
        column = "prepaid_minor" if fact["source"] == "appointment" else "paid_on_invoices_minor"
        changes[column] = current[column] + amount
    uow.put_row(REVENUE, {**current, **changes})


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


def _paid(
    uow: WarehouseUnitOfWork, event: EventEnvelope, mode: str, provider: str
) -> dict[str, Any]:
    return {
        "mode": mode,
        "provider": provider,
        "paid_at": event.occurred_at,
        "paid_date": _local(uow, event),
    }


def _local(uow: WarehouseUnitOfWork, event: EventEnvelope) -> date:
    return local_date(uow, event.tenant_id, str(event.branch_id), event.occurred_at)


def _refund(
    uow: WarehouseUnitOfWork,
    event: EventEnvelope,
    data: e.AppointmentPaymentRefunded | e.RefundIssued,
) -> dict[str, Any]:
    return {
        "refund_id": data.refund_id,
        "payment_id": data.payment_id,
        **_money(data.amount_minor, data.currency),
        "reason": data.reason,
        "refunded_at": event.occurred_at,
        "refunded_date": _local(uow, event),
    }
