"""Run the reconciliation of a day over the event log and keep it for the finance console.

:func:`collect` reads the log once and turns the money events into the pure inputs of
:mod:`mymedic.domain.reconciliation`, each placed on its branch-local day (the branch's
time zone from ``branch.registered``; UTC for facts that name no branch). Every input
of every day is passed: the pure function reports ``day`` only and uses the others to
match (a settlement covering payments of two days, a refund of an earlier payment).

:func:`write` replaces the ``reconciliation`` documents of the tenant/branch/day it
ran for (one per tenant, branch, day and currency), so a re-run, or a run after a late
event re-opened the day, leaves exactly the current result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from mymedic.app.event_log import every_event
from mymedic.domain import events as e
from mymedic.domain import reconciliation as r
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import DocumentStore, DocumentUnitOfWork, EventStore

RECONCILIATION = "reconciliation"


@dataclass
class _Collected:
    zones: dict[tuple[str, str], ZoneInfo] = field(default_factory=dict)
    payments: dict[tuple[str, str], r.RecordedPayment] = field(default_factory=dict)
    refunds: dict[tuple[str, str], r.RecordedRefund] = field(default_factory=dict)
    forfeitures: list[r.Forfeiture] = field(default_factory=list)
    invoices: dict[tuple[str, str], r.InvoiceBalance] = field(default_factory=dict)
    invoice_paid: dict[tuple[str, str], int] = field(default_factory=dict)
    invoice_credited: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    captures: list[r.GatewayCapture] = field(default_factory=list)
    disputes: dict[tuple[str, str], r.GatewayDispute] = field(default_factory=dict)
    unmatched: list[r.GatewayUnmatched] = field(default_factory=list)
    settlements: list[tuple[str, r.Settlement]] = field(default_factory=list)
    gateway_refunds: dict[tuple[str, str], r.GatewayRefund] = field(default_factory=dict)
    # The lines of each settlement (provider, settlement_ref), from its itemization.
    lines: dict[tuple[str, str], tuple[r.SettledItem, ...]] = field(default_factory=dict)

    def day(self, envelope: EventEnvelope, branch: str | None, at: datetime | None = None) -> date:
        zone = self.zones.get((envelope.tenant_id, branch or ""))
        return (at or envelope.occurred_at).astimezone(zone or UTC).date()


def collect(store: EventStore) -> r.DayInputs:
    """The inputs of every day in the log (the pure function picks its day)."""
    found = _Collected()
    for envelope in every_event(store):
        if envelope.event_type in e.CATALOGUE:
            _take(found, envelope, envelope.data())
    for key, invoice in found.invoices.items():
        credits = found.invoice_credited.get(key, {})
        found.invoices[key] = r.InvoiceBalance(
            **{
                **invoice.__dict__,
                "paid_minor": found.invoice_paid.get(key, 0),
                "credited_minor": sum(credits.values()),
            },
        )
    # A settlement is the gateway account's (the tenant it was recorded in): its checks
    # (itemized, paid out as its lines say, payments nobody captured) are that tenant's,
    # while each clinic's captures count as settled in the clinic's own close.
    settlements = [_itemized(recorded, found.lines) for _, recorded in found.settlements]
    return r.DayInputs(
        payments=list(found.payments.values()),
        refunds=list(found.refunds.values()),
        forfeitures=found.forfeitures,
        invoices=list(found.invoices.values()),
        captures=found.captures,
        gateway_refunds=list(found.gateway_refunds.values()),
        disputes=list(found.disputes.values()),
        unmatched=found.unmatched,
        settlements=settlements,
    )


def _itemized(
    settlement: r.Settlement, lines: dict[tuple[str, str], tuple[r.SettledItem, ...]]
) -> r.Settlement:
    """The settlement with its lines, and the payments they pay out among its refs."""
    items = lines.get((settlement.provider, settlement.settlement_ref), ())
    if not items:
        return settlement
    paid = [i.payment_ref for i in items if i.kind == "payment" and i.payment_ref]
    refs = tuple(dict.fromkeys([*settlement.payment_refs, *paid]))
    return r.Settlement(**{**settlement.__dict__, "items": items, "payment_refs": refs})


def _take(found: _Collected, env: EventEnvelope, data: e.EventPayload) -> None:
    tenant = env.tenant_id
    branch = env.branch_id if env.branch_id not in (None, "*") else None
    match data:
        case e.BranchRegistered():
            found.zones[(tenant, data.branch_id)] = ZoneInfo(data.timezone)
        case e.AppointmentPaymentTaken() | e.PaymentCaptured():
            key = (tenant, data.payment_id)
            earlier = found.payments.get(key)
            invoice = data.invoice_id if isinstance(data, e.PaymentCaptured) else None
            kind = data.kind.value if isinstance(data, e.AppointmentPaymentTaken) else None
            if isinstance(data, e.PaymentCaptured):
                paid = found.invoice_paid.get((tenant, data.invoice_id), 0)
                found.invoice_paid[(tenant, data.invoice_id)] = paid + data.amount_minor
            found.payments[key] = r.RecordedPayment(
                tenant_id=tenant,
                branch_id=earlier.branch_id if earlier else branch or r.UNASSIGNED,
                day=earlier.day if earlier else found.day(env, branch),
                payment_id=data.payment_id,
                amount_minor=data.amount_minor,
                currency=data.currency,
                mode=data.mode.value,
                provider=data.provider,
                kind=kind or (earlier.kind if earlier else "payment"),
                provider_reference=data.provider_reference,
                invoice_id=invoice or (earlier.invoice_id if earlier else None),
            )
        case e.AppointmentPaymentRefunded() | e.RefundIssued():
            if isinstance(data, e.RefundIssued):
                paid = found.invoice_paid.get((tenant, data.invoice_id), 0)
                found.invoice_paid[(tenant, data.invoice_id)] = paid - data.amount_minor
            found.refunds.setdefault(
                (tenant, data.refund_id),
                r.RecordedRefund(
                    tenant_id=tenant,
                    branch_id=branch or r.UNASSIGNED,
                    day=found.day(env, branch),
                    refund_id=data.refund_id,
                    payment_id=data.payment_id,
                    amount_minor=data.amount_minor,
                    currency=data.currency,
                ),
            )
        case e.CreditNoteIssued():
            credits = found.invoice_credited.setdefault((tenant, data.invoice_id), {})
            credits[data.credit_note_id] = data.amount_minor
        case e.DepositForfeited():
            found.forfeitures.append(
                r.Forfeiture(
                    tenant_id=tenant,
                    branch_id=branch or r.UNASSIGNED,
                    day=found.day(env, branch),
                    appointment_id=data.appointment_id,
                    amount_minor=data.amount_minor,
                    currency=data.currency,
                )
            )
        case e.InvoiceIssued():
            found.invoices[(tenant, data.invoice_id)] = r.InvoiceBalance(
                tenant_id=tenant,
                branch_id=branch or r.UNASSIGNED,
                day=found.day(env, branch),
                invoice_id=data.invoice_id,
                amount_minor=data.amount_minor,
                paid_minor=0,
                currency=data.currency,
            )
        case e.GatewayPaymentCaptured():
            where = data.branch_id or branch
            found.captures.append(
                r.GatewayCapture(
                    tenant_id=tenant,
                    branch_id=where,
                    day=found.day(env, where),
                    provider=data.provider,
                    payment_ref=data.payment_ref,
                    amount_minor=data.amount_minor,
                    currency=data.currency,
                    fee_minor=data.fee_minor or 0,
                    tax_minor=data.tax_minor or 0,
                    fee_known=data.fee_minor is not None,
                )
            )
        case e.GatewayRefundRecorded():
            refund_key = (data.provider, data.refund_ref)
            before = found.gateway_refunds.get(refund_key)
            found.gateway_refunds[refund_key] = r.GatewayRefund(
                provider=data.provider,
                refund_ref=data.refund_ref,
                refund_id=data.refund_id or (before.refund_id if before else None),
                payment_ref=data.payment_ref,
                status=data.status,
                amount_minor=data.amount_minor,
                currency=data.currency,
            )
        case e.SettlementItemized():
            found.lines.setdefault(
                (data.provider, data.settlement_ref),
                tuple(
                    r.SettledItem(
                        kind=item.kind,
                        item_ref=item.item_ref,
                        payment_ref=item.payment_ref,
                        amount_minor=item.amount_minor,
                        fee_minor=item.fee_minor,
                        tax_minor=item.tax_minor,
                        net_minor=item.net_minor,
                    )
                    for item in data.items
                ),
            )
        case e.GatewayDisputeRecorded():
            found.disputes[(data.provider, data.dispute_ref)] = r.GatewayDispute(
                provider=data.provider,
                payment_ref=data.payment_ref,
                dispute_ref=data.dispute_ref,
                phase=data.phase,
                amount_minor=data.amount_minor,
                currency=data.currency,
            )
        case e.PaymentUnmatched():
            where = data.branch_id or branch
            found.unmatched.append(
                r.GatewayUnmatched(
                    tenant_id=tenant,
                    branch_id=where,
                    day=found.day(env, where),
                    provider=data.provider,
                    payment_ref=data.payment_ref,
                    fact_event_type=data.fact_event_type,
                    reason=data.reason,
                    amount_minor=data.amount_minor,
                    currency=data.currency,
                )
            )
        case e.SettlementRecorded():
            settlement = r.Settlement(
                tenant_id=tenant,
                day=found.day(env, None, data.settled_at),
                provider=data.provider,
                settlement_ref=data.settlement_ref,
                amount_minor=data.amount_minor,
                currency=data.currency,
                fee_minor=data.fee_minor or 0,
                tax_minor=data.tax_minor or 0,
                payment_refs=tuple(data.payment_refs),
            )
            found.settlements.append((tenant, settlement))
        case _:
            pass


def run_day(
    store: EventStore,
    day: date,
    *,
    as_of: date,
    tenant: str | None = None,
    branch: str | None = None,
    settle_within_days: int = 3,
) -> list[r.DayReconciliation]:
    """The day's reconciliation, for one tenant and/or branch if named."""
    results = r.reconcile(collect(store), day, as_of=as_of, settle_within_days=settle_within_days)
    return [
        result
        for result in results
        if tenant in (None, result.tenant_id) and branch in (None, result.branch_id)
    ]


def run_days(
    store: EventStore,
    first: date,
    last: date,
    *,
    as_of: date,
    settle_within_days: int = 3,
) -> list[r.DayReconciliation]:
    """Every day from ``first`` to ``last``, from one read of the log."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return r.reconcile_days(
        collect(store), days, as_of=as_of, settle_within_days=settle_within_days
    )


def write(
    documents: DocumentStore,
    results: list[r.DayReconciliation],
    day: date,
    tenants: list[str],
    branch: str | None = None,
) -> None:
    """Replace the documents of ``day`` (of ``branch`` if named) of ``tenants``."""
    where: dict[str, object] = {"day": day.isoformat()}
    if branch is not None:
        where["branch_id"] = branch
    stale = {
        tenant: [doc for doc in documents.query(RECONCILIATION, tenant, where)]
        for tenant in sorted(set(tenants) | {result.tenant_id for result in results})
    }

    def work(uow: DocumentUnitOfWork) -> None:
        for tenant, docs in stale.items():
            for doc in docs:
                uow.delete(RECONCILIATION, tenant, _doc_id(doc["branch_id"], day, doc["currency"]))
        for result in results:
            uow.put(RECONCILIATION, result.tenant_id, result.key, result.to_document())

    documents.transact(work)


def _doc_id(branch: str, day: date, currency: str) -> str:
    return f"{branch}:{day.isoformat()}:{currency}"
