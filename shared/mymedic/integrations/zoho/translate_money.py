"""Money from Zoho CRM: invoices, payments and refunds kept as CRM records
(``billing = "crm_records"``), or the appointment's own amount and payment status
(``billing = "crm_amount"``). Pure; see :mod:`mymedic.integrations.zoho.translate` and,
for which source wins when several describe one visit, ``integrations/zoho/billing.py``.

A payment is applied once, to the invoice when it names one (the invoice knows its
appointment), else to the appointment; a payment already held there (the same payment
id, or the same gateway reference: a gateway webhook that arrived first) is matched,
not applied again. A refund goes where its payment is. What the ledger cannot hold (more
than is owed or refundable, another currency, an invoice whose amount changed after it
was issued) raises :class:`DomainError` and the version is quarantined.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from mymedic.domain import events as e
from mymedic.domain.aggregates import (
    AppointmentState,
    InvoiceState,
    NewEvent,
    deposit_forfeiture,
    evolve,
)
from mymedic.domain.envelope import EventEnvelope
from mymedic.domain.errors import DomainError, UnknownReference
from mymedic.domain.types import AppointmentStatus, PaymentKind, PaymentMode
from mymedic.integrations.zoho.records import MappedRecord
from mymedic.integrations.zoho.translate_common import (
    MissingParent,
    Translation,
    TranslationContext,
    branch_of_stream,
    entity_id,
    own_stream,
    policy,
)

MAX_ID = 64  # an Identifier's length
REFUNDED_IN_ZOHO = "refunded in Zoho"
PAID_LOWERED_IN_ZOHO = "amount paid lowered in Zoho"


def _created(record: MappedRecord) -> datetime:
    created = record.values.get("created_at")
    return created if isinstance(created, datetime) else record.modified_time


def derived_id(*parts: str) -> str:
    """An id made of others (``bill:apt-1:2``), shortened to a digest when too long."""
    joined = ":".join(parts)
    if len(joined) <= MAX_ID:
        return joined
    return f"{parts[0]}:{hashlib.sha256(joined.encode()).hexdigest()[:40]}"


def _appointment(ctx: TranslationContext, appointment_id: str) -> AppointmentState:
    found = ctx.state(e.stream_id("appointment", appointment_id))
    if not isinstance(found, AppointmentState):
        raise MissingParent("appointment", appointment_id, "appointment_id")
    return found


def _require_currency(given: str, expected: str) -> None:
    if given != expected:
        raise DomainError(f"the amount is in {given}, the account in {expected}", field="currency")


# --- billing = "crm_records" -----------------------------------------------------------------


def invoice(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    stream = own_stream(record)
    state = ctx.state(stream)
    appointment = _appointment(ctx, values["appointment_id"])
    branch = branch_of_stream(ctx, e.stream_id("appointment", values["appointment_id"]))
    if values.get("status") == "void":
        raise DomainError(
            "a void invoice is not recorded (an issued one is never voided: credit it)",
            field="status",
        )
    events: list[NewEvent] = []
    if state is None:
        issued = e.InvoiceIssued(
            invoice_id=values["invoice_id"],
            appointment_id=values["appointment_id"],
            patient_id=appointment.patient_id,
            payer_type=values["payer_type"],
            amount_minor=values["amount_minor"],
            currency=values["currency"],
            due_on=values["due_on"],
        )
        events.append(NewEvent(issued, occurred_at=_created(record), branch_id=branch))
        events += _assigned(
            ctx, values["appointment_id"], values["invoice_id"], "crm_records", branch
        )
    elif isinstance(state, InvoiceState) and (state.amount_minor, state.currency) != (
        values["amount_minor"],
        values["currency"],
    ):
        raise DomainError(
            "the invoice's amount changed after it was issued: credit it instead",
            field="amount_minor",
        )
    return Translation(events, stream, entity_id(record), branch)


def payment(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    payment_id = values["payment_id"]
    if values.get("invoice_id"):
        parent, parent_id = "invoice", str(values["invoice_id"])
    elif values.get("appointment_id"):
        parent, parent_id = "appointment", str(values["appointment_id"])
    else:
        raise UnknownReference(
            "the payment names neither an invoice nor an appointment", field="appointment_id"
        )
    stream = e.stream_id(parent, parent_id)
    state = ctx.state(stream)
    if state is None:
        raise MissingParent(parent, parent_id, f"{parent}_id")
    branch = branch_of_stream(ctx, stream)
    if _payment_recorded(ctx.history(stream), payment_id, values.get("provider_reference")):
        return Translation([], stream, payment_id, branch)
    mode = PaymentMode(values["mode"])
    fields: dict[str, Any] = {
        "payment_id": payment_id,
        "amount_minor": values["amount_minor"],
        "currency": values["currency"],
        "mode": mode,
        "provider": values.get("provider") or _provider(mode),
        "provider_reference": values.get("provider_reference"),
    }
    paid_at = _created(record)
    kind = PaymentKind(values.get("kind") or PaymentKind.PAYMENT)
    events: list[NewEvent] = []
    if isinstance(state, InvoiceState):
        if kind is PaymentKind.DEPOSIT:
            raise DomainError("a deposit is taken on an appointment, not an invoice", field="kind")
        _require_currency(values["currency"], state.currency)
        _within(values["amount_minor"], state.owed_minor, state.currency)
        captured = e.PaymentCaptured(invoice_id=values["invoice_id"], **fields)
        events.append(NewEvent(captured, occurred_at=paid_at, branch_id=branch))
    elif isinstance(state, AppointmentState):
        _require_currency(values["currency"], state.currency)
        _within(values["amount_minor"], state.price_minor - state.net_paid_minor, state.currency)
        taken = e.AppointmentPaymentTaken(
            appointment_id=values["appointment_id"], kind=kind, **fields
        )
        events.append(NewEvent(taken, occurred_at=paid_at, branch_id=branch))
        after = cast(AppointmentState, evolve(state, taken))
        events += _late_deposit_forfeiture(
            ctx, stream, state=after, taken=taken, paid_at=paid_at, branch=branch
        )
    else:
        raise UnknownReference(f"{stream} holds no payments", field="payment_id")
    return Translation(events, stream, payment_id, branch)


def _assigned(
    ctx: TranslationContext,
    appointment_id: str,
    invoice_id: str,
    source: e.BillSource,
    branch: str | None,
) -> list[NewEvent]:
    """The visit's bill, when it has none yet (see :class:`e.BillAssigned`)."""
    if ctx.state(e.stream_id(e.BillAssigned.category, appointment_id)) is not None:
        return []
    assigned = e.BillAssigned(appointment_id=appointment_id, invoice_id=invoice_id, source=source)
    return [NewEvent(assigned, branch_id=branch)]


def _provider(mode: PaymentMode) -> str:
    return "cash" if mode is PaymentMode.CASH else "console"


def _within(amount: int, outstanding: int, currency: str) -> None:
    if amount > outstanding:
        raise DomainError(
            f"payment of {amount} exceeds the outstanding {outstanding} {currency}",
            field="amount_minor",
        )


def _payment_recorded(
    history: Sequence[EventEnvelope], payment_id: str, reference: str | None
) -> bool:
    """The same payment held already: by its id, or by the gateway's reference (a
    gateway webhook that told us first)."""
    for envelope in history:
        data = envelope.data()
        if isinstance(data, e.AppointmentPaymentTaken | e.PaymentCaptured) and (
            data.payment_id == payment_id
            or (reference is not None and data.provider_reference == reference)
        ):
            return True
    return False


def _late_deposit_forfeiture(
    ctx: TranslationContext,
    stream: str,
    *,
    state: AppointmentState,
    taken: e.AppointmentPaymentTaken,
    paid_at: datetime,
    branch: str | None,
) -> list[NewEvent]:
    """A deposit paid before the appointment was cancelled or missed, learnt of after
    (a backfill reads appointments before payments): the policy forfeits it as it would
    have at that moment."""
    if taken.kind is not PaymentKind.DEPOSIT or state.status not in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    ):
        return []
    closed = next(
        (
            envelope
            for envelope in reversed(ctx.history(stream))
            if envelope.event_type
            in (e.AppointmentCancelled.event_type, e.AppointmentNoShow.event_type)
        ),
        None,
    )
    if closed is None or paid_at >= closed.occurred_at:
        return []
    trigger: Literal["late_cancellation", "no_show"] = (
        "no_show" if closed.event_type == e.AppointmentNoShow.event_type else "late_cancellation"
    )
    alone = AppointmentState(
        **{
            **state.__dict__,
            "payments": {taken.payment_id: state.payments[taken.payment_id]},
        }
    )
    kept = deposit_forfeiture(taken.appointment_id, alone, policy(ctx), closed.occurred_at, trigger)
    return [NewEvent(event, occurred_at=closed.occurred_at, branch_id=branch) for event in kept]


def refund(record: MappedRecord, ctx: TranslationContext) -> Translation:
    values = record.values
    refund_id = values["refund_id"]
    payment_id = values["payment_id"]
    stream = record.targets.get("payment_id") or _payment_stream(ctx, values)
    state = ctx.state(stream)
    if state is None:
        category, parent_id = stream.split(":", 1)
        raise MissingParent(category, parent_id, f"{category}_id")
    branch = branch_of_stream(ctx, stream)
    if any(
        isinstance(data := envelope.data(), e.AppointmentPaymentRefunded | e.RefundIssued)
        and data.refund_id == refund_id
        for envelope in ctx.history(stream)
    ):
        return Translation([], stream, refund_id, branch)
    reason = values.get("reason") or REFUNDED_IN_ZOHO
    amount = values["amount_minor"]
    if isinstance(state, InvoiceState):
        _require_currency(values["currency"], state.currency)
        paid = state.payments.get(payment_id)
        if paid is None:
            raise MissingParent("payment", payment_id, "payment_id")
        _refundable(amount, paid - state.refunds.get(payment_id, 0), state.currency)
        payload: e.EventPayload = e.RefundIssued(
            invoice_id=stream.split(":", 1)[1],
            refund_id=refund_id,
            payment_id=payment_id,
            amount_minor=amount,
            currency=values["currency"],
            reason=reason,
        )
    elif isinstance(state, AppointmentState):
        _require_currency(values["currency"], state.currency)
        held = state.payments.get(payment_id)
        if held is None:
            raise MissingParent("payment", payment_id, "payment_id")
        _refundable(amount, held.refundable_minor, state.currency)
        payload = e.AppointmentPaymentRefunded(
            appointment_id=stream.split(":", 1)[1],
            refund_id=refund_id,
            payment_id=payment_id,
            amount_minor=amount,
            currency=values["currency"],
            reason=reason,
        )
    else:
        raise UnknownReference(
            f"the payment of refund {refund_id} is not known", field="payment_id"
        )
    return Translation(
        [NewEvent(payload, occurred_at=_created(record), branch_id=branch)],
        stream,
        refund_id,
        branch,
    )


def _payment_stream(ctx: TranslationContext, values: dict[str, Any]) -> str:
    if values.get("invoice_id"):
        return e.stream_id("invoice", values["invoice_id"])
    if values.get("appointment_id"):
        return e.stream_id("appointment", values["appointment_id"])
    raise UnknownReference(
        "the refund's payment is not known (map the payment as a lookup to the payments "
        "module, or the refund's invoice or appointment)",
        field="payment_id",
    )


def _refundable(amount: int, refundable: int, currency: str) -> None:
    if amount > refundable:
        raise DomainError(
            f"refund of {amount} exceeds the refundable {refundable} {currency}",
            field="amount_minor",
        )


# --- billing = "crm_amount" ------------------------------------------------------------------


def bill_id(appointment_id: str) -> str:
    """The invoice that bills a visit from its CRM amount."""
    return derived_id("bill", appointment_id)


def crm_bill(
    record: MappedRecord,
    values: dict[str, Any],
    state: AppointmentState,
    ctx: TranslationContext,
    *,
    branch: str,
) -> list[NewEvent]:
    """The visit's bill and what was paid, from the appointment's own fields: its amount
    billed when it is completed (less what was prepaid on it), due ``payment_terms_days``
    after the visit; the amount paid (or the payment status: paid is the whole amount,
    unpaid nothing) recorded as the difference from what every source has paid so far, so
    that a gateway payment or a Books payment is never counted again."""
    appointment_id = values["appointment_id"]
    stream = e.stream_id("invoice", bill_id(appointment_id))
    bill = ctx.state(stream)
    if bill is not None and not isinstance(bill, InvoiceState):
        raise TypeError(f"{stream} is not an invoice")
    price, currency = values["price_minor"], values["currency"]
    status_at = values.get("status_changed_at") or record.modified_time
    events: list[NewEvent] = []
    if bill is None and state.status is AppointmentStatus.COMPLETED:
        amount = price - state.net_paid_minor
        if amount > 0:
            local_day = state.start_at.astimezone(ctx.mapping.zone).date()
            issued = e.InvoiceIssued(
                invoice_id=bill_id(appointment_id),
                appointment_id=appointment_id,
                patient_id=state.patient_id,
                payer_type=values.get("payer_type") or "self_pay",
                amount_minor=amount,
                currency=currency,
                due_on=local_day + timedelta(days=ctx.mapping.payment_terms_days),
            )
            events.append(NewEvent(issued, occurred_at=status_at, branch_id=branch))
            events += _assigned(ctx, appointment_id, issued.invoice_id, "crm_amount", branch)
            bill = cast(InvoiceState, evolve(None, issued))
    elif bill is not None:
        billed = bill.amount_minor + _prepaid_when_billed(ctx, appointment_id, stream)
        if billed != price:
            raise DomainError(
                f"the amount changed after the visit was billed ({billed} {currency}): "
                "credit the bill instead",
                field="price_minor",
            )
    target = _paid_in_crm(values, price)
    if target is None:
        return events
    paid = state.net_paid_minor + (bill.paid_minor if bill is not None else 0)
    delta = target - paid
    if delta > 0:
        events.append(
            _crm_payment(record, values, state=state, bill=bill, amount=delta, branch=branch)
        )
    elif delta < 0:
        events.append(
            _crm_refund(record, values, state=state, bill=bill, amount=-delta, branch=branch)
        )
    return events


def _prepaid_when_billed(ctx: TranslationContext, appointment_id: str, bill_stream: str) -> int:
    """What was prepaid on the appointment when its bill was issued."""
    history = ctx.history(bill_stream)
    issued_at = history[0].occurred_at if history else None
    state: AppointmentState | None = None
    for envelope in ctx.history(e.stream_id("appointment", appointment_id)):
        if issued_at is not None and envelope.occurred_at > issued_at:
            continue
        state = cast(AppointmentState, evolve(state, envelope.data()))
    return state.net_paid_minor if state is not None else 0


def _paid_in_crm(values: dict[str, Any], price: int) -> int | None:
    if values.get("paid_minor") is not None:
        return int(values["paid_minor"])
    status = values.get("payment_status")
    if status == "paid":
        return int(price)
    if status == "unpaid":
        return 0
    return None  # partially paid, with no amount: nothing to record


def _crm_payment(
    record: MappedRecord,
    values: dict[str, Any],
    *,
    state: AppointmentState,
    bill: InvoiceState | None,
    amount: int,
    branch: str,
) -> NewEvent:
    if values.get("payment_mode") is None:
        raise DomainError(
            "the appointment was paid in the CRM but names no payment mode: map payment_mode "
            "or give it a default",
            field="payment_mode",
        )
    mode = PaymentMode(values["payment_mode"])
    appointment_id = values["appointment_id"]
    currency = values["currency"]
    common = {
        "amount_minor": amount,
        "currency": currency,
        "mode": mode,
        "provider": _provider(mode),
        "provider_reference": values.get("payment_reference"),
    }
    payload: e.EventPayload
    if bill is not None:
        _within(amount, bill.owed_minor, currency)
        number = str(len(bill.payments) + 1)
        payload = e.PaymentCaptured(
            invoice_id=bill_id(appointment_id),
            payment_id=derived_id("crm", appointment_id, "bill", number),
            **common,
        )
    else:
        _within(amount, values["price_minor"] - state.net_paid_minor, currency)
        number = str(len(state.payments) + 1)
        payload = e.AppointmentPaymentTaken(
            appointment_id=appointment_id,
            payment_id=derived_id("crm", appointment_id, number),
            kind=PaymentKind.PAYMENT,
            **common,
        )
    return NewEvent(payload, occurred_at=record.modified_time, branch_id=branch)


def _crm_refund(
    record: MappedRecord,
    values: dict[str, Any],
    *,
    state: AppointmentState,
    bill: InvoiceState | None,
    amount: int,
    branch: str,
) -> NewEvent:
    """The amount paid went down in the CRM: a refund of the latest payment that can
    take it (the bill's first, then the appointment's)."""
    appointment_id = values["appointment_id"]
    currency = values["currency"]
    payload: e.EventPayload | None = None
    if bill is not None:
        for payment_id, paid in reversed(list(bill.payments.items())):
            if paid - bill.refunds.get(payment_id, 0) >= amount:
                payload = e.RefundIssued(
                    invoice_id=bill_id(appointment_id),
                    # Refunded so far, this one included: distinct per refund.
                    refund_id=derived_id(
                        "crm", payment_id, f"r{bill.refunds.get(payment_id, 0) + amount}"
                    ),
                    payment_id=payment_id,
                    amount_minor=amount,
                    currency=currency,
                    reason=PAID_LOWERED_IN_ZOHO,
                )
                break
    if payload is None:
        for payment_id, held in reversed(list(state.payments.items())):
            if held.refundable_minor >= amount:
                payload = e.AppointmentPaymentRefunded(
                    appointment_id=appointment_id,
                    refund_id=derived_id("crm", payment_id, f"r{held.refunded_minor + amount}"),
                    payment_id=payment_id,
                    amount_minor=amount,
                    currency=currency,
                    reason=PAID_LOWERED_IN_ZOHO,
                )
                break
    if payload is None:
        raise DomainError(
            f"the amount paid went down by {amount} {currency}, more than any one payment "
            "can refund",
            field="paid_minor",
        )
    return NewEvent(payload, occurred_at=record.modified_time, branch_id=branch)
