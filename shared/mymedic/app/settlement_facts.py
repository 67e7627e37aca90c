"""The warehouse's gateway facts: ``fct_gateway_payment`` (captures), ``fct_settlement``
(the gateway account's payouts), ``fct_settlement_share``, ``fct_settlement_item`` and
``fct_settlement_payment`` (each tenant's part of them). Part of the warehouse facts
projection.

A capture (``gateway:{provider}:{ref}``, the clinic's tenant) and the clinic's share of
the settlement that pays it out (``settlement:{provider}:{ref}`` in the clinic's tenant,
``gateway.settlement_shared``) are on different streams, delivered in either order: no
row here reads the other stream. The marts join them (int_gateway_payment) by tenant,
provider and payment ref. A capture's captured_date is by its branch's time zone
(``branch_facts.local_date``). A settlement's itemization is on the account's settlement
stream, after its recording; its split (``gateway.settlement_split``, after every share)
updates the payout's items count and net in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mymedic.app.branch_facts import local_date, prefetch_branch_keys
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.domain.reconciliation import UNASSIGNED
from mymedic.ports import Row, WarehouseUnitOfWork

GATEWAY_PAYMENTS = "fct_gateway_payment"
SETTLEMENTS = "fct_settlement"
SETTLEMENT_ITEMS = "fct_settlement_item"
SETTLEMENT_PAYMENTS = "fct_settlement_payment"
SETTLEMENT_SHARES = "fct_settlement_share"
SETTLEMENT_TABLES = (
    GATEWAY_PAYMENTS,
    SETTLEMENTS,
    SETTLEMENT_SHARES,
    SETTLEMENT_ITEMS,
    SETTLEMENT_PAYMENTS,
)
CATEGORIES = frozenset({"gateway", "settlement"})

EVENT_TYPES = frozenset(
    model.event_type
    for model in (
        e.GatewayPaymentCaptured,
        e.SettlementRecorded,
        e.SettlementSplit,
        e.SettlementShared,
    )
)


def prefetch_settlement(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    settlements: list[tuple[str, ...]] = []
    shares: list[tuple[str, ...]] = []
    items: list[tuple[str, ...]] = []
    payments: list[tuple[str, ...]] = []
    branches = [
        (ev.tenant_id, ev.payload.get("branch_id") or UNASSIGNED)
        for ev in events
        if ev.event_type == e.GatewayPaymentCaptured.event_type
    ]
    prefetch_branch_keys(uow, branches)
    for ev in events:
        if ev.event_type not in EVENT_TYPES or ev.category != "settlement":
            continue
        p = ev.payload
        key = (ev.tenant_id, p["provider"], p["settlement_ref"])
        if ev.event_type != e.SettlementShared.event_type:
            settlements.append(key)
            continue
        shares.append(key)
        refs = [item["item_ref"] for item in p["items"]] + p["withdrawn_item_refs"]
        items += [(*key, ref) for ref in refs]
        refs = p["payment_refs"] + p["withdrawn_payment_refs"]
        payments += [(*key, ref) for ref in refs]
    for table, keys in (
        (SETTLEMENTS, settlements),
        (SETTLEMENT_SHARES, shares),
        (SETTLEMENT_ITEMS, items),
        (SETTLEMENT_PAYMENTS, payments),
    ):
        if keys:
            uow.prefetch(table, keys)


def apply_settlement(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    audit = {
        "recorded_at": event.recorded_at,
        "updated_at": event.occurred_at,
        "last_event_id": event.event_id,
    }
    match data:
        case e.GatewayPaymentCaptured():
            row = _capture(event.tenant_id, data, event)
            row["captured_date"] = local_date(
                uow, event.tenant_id, row["branch_id"], event.occurred_at
            )
            uow.put_row(GATEWAY_PAYMENTS, {**row, **audit})
        case e.SettlementRecorded():
            _record(uow, event.tenant_id, data, event, audit)
        case e.SettlementSplit():
            _split(uow, event.tenant_id, data, audit)
        case e.SettlementShared():
            _share(uow, event.tenant_id, data, audit)


def _capture(tenant_id: str, data: e.GatewayPaymentCaptured, event: EventEnvelope) -> Row:
    return {
        "tenant_id": tenant_id,
        "branch_id": data.branch_id or UNASSIGNED,
        "provider": data.provider,
        "payment_ref": data.payment_ref,
        "payment_id": data.payment_id,
        "appointment_id": data.appointment_id,
        "invoice_id": data.invoice_id,
        "kind": data.kind.value,
        "method": data.method,
        "amount_minor": data.amount_minor,
        "fee_minor": data.fee_minor,
        "tax_minor": data.tax_minor,
        "net_minor": data.amount_minor - (data.fee_minor or 0),
        "currency": data.currency,
        "captured_at": event.occurred_at,
    }


def _record(
    uow: WarehouseUnitOfWork,
    tenant_id: str,
    data: e.SettlementRecorded,
    event: EventEnvelope,
    audit: dict[str, Any],
) -> None:
    key = (tenant_id, data.provider, data.settlement_ref)
    previous = uow.get_row(SETTLEMENTS, key)
    # Without the gateway's date, the first report's instant stays the settlement's date.
    settled_at = data.settled_at or (previous["settled_at"] if previous else event.occurred_at)
    uow.put_row(
        SETTLEMENTS,
        {
            "tenant_id": tenant_id,
            "provider": data.provider,
            "settlement_ref": data.settlement_ref,
            "status": data.status,
            "amount_minor": data.amount_minor,
            "fee_minor": data.fee_minor,
            "tax_minor": data.tax_minor,
            "currency": data.currency,
            "bank_reference": data.bank_reference,
            "settled_at": settled_at,
            "items_count": previous["items_count"] if previous else None,
            "items_net_minor": previous["items_net_minor"] if previous else None,
            **audit,
        },
    )


def _split(
    uow: WarehouseUnitOfWork, tenant_id: str, data: e.SettlementSplit, audit: dict[str, Any]
) -> None:
    """The payout's lines count and net, over every tenant's lines."""
    key = (tenant_id, data.provider, data.settlement_ref)
    settlement = uow.get_row(SETTLEMENTS, key)
    if settlement is None:
        raise LookupError(f"fct_settlement has no {data.settlement_ref} of {tenant_id}")
    changes = {
        "items_count": data.items_count,
        "items_net_minor": data.items_net_minor,
        "updated_at": audit["updated_at"],
        "last_event_id": audit["last_event_id"],
    }
    uow.put_row(SETTLEMENTS, {**settlement, **changes})


def _share(
    uow: WarehouseUnitOfWork, tenant_id: str, data: e.SettlementShared, audit: dict[str, Any]
) -> None:
    """A tenant's part: what it gains (unmatched: the account's lines no payment
    explains) and what it gives up (withdrawn: found since to be another tenant's)."""
    key = (tenant_id, data.provider, data.settlement_ref)
    share = {
        "tenant_id": tenant_id,
        "provider": data.provider,
        "settlement_ref": data.settlement_ref,
        "account_tenant_id": data.account_tenant_id,
        "status": data.status,
        "currency": data.currency,
        "bank_reference": data.bank_reference,
        "settled_at": data.settled_at,
    }
    uow.put_row(SETTLEMENT_SHARES, {**share, **audit})
    for table, refs in (
        (SETTLEMENT_ITEMS, data.withdrawn_item_refs),
        (SETTLEMENT_PAYMENTS, data.withdrawn_payment_refs),
    ):
        for ref in refs:
            earlier = uow.get_row(table, (*key, ref))
            if earlier is not None:
                uow.put_row(table, {**earlier, "withdrawn": True, **audit})
    common = {
        "tenant_id": tenant_id,
        "provider": data.provider,
        "settlement_ref": data.settlement_ref,
        "settled_at": data.settled_at,
        "withdrawn": False,
        **audit,
    }
    unmatched = set(data.unmatched_item_refs)
    for item in data.items:
        uow.put_row(
            SETTLEMENT_ITEMS,
            {
                **common,
                "item_ref": item.item_ref,
                "kind": item.kind,
                "payment_ref": item.payment_ref,
                "amount_minor": item.amount_minor,
                "fee_minor": item.fee_minor,
                "tax_minor": item.tax_minor,
                "net_minor": item.net_minor,
                "currency": data.currency,
                "source": data.source,
                "unmatched": item.item_ref in unmatched,
            },
        )
    unmatched = set(data.unmatched_payment_refs)
    for ref in dict.fromkeys(data.payment_refs):
        row = {**common, "payment_ref": ref, "unmatched": ref in unmatched}
        uow.put_row(SETTLEMENT_PAYMENTS, row)
