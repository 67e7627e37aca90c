"""The warehouse's gateway facts: ``fct_gateway_payment`` (captures), ``fct_settlement``,
``fct_settlement_item`` and ``fct_settlement_payment``. Part of the warehouse facts
projection.

A capture (``gateway:{provider}:{ref}``, the clinic's tenant) and the settlement that
pays it out (``settlement:{provider}:{ref}``, the gateway account's tenant) are on
different streams, delivered in either order: no row here reads the other stream. The
marts join them (int_gateway_payment) by provider and payment ref. A capture's
captured_date is by its branch's time zone (``branch_facts.local_date``). A settlement's
itemization is on the settlement's own stream, after its recording, so it updates the
settlement's items count and net in place.
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
SETTLEMENT_TABLES = (GATEWAY_PAYMENTS, SETTLEMENTS, SETTLEMENT_ITEMS, SETTLEMENT_PAYMENTS)
CATEGORIES = frozenset({"gateway", "settlement"})

EVENT_TYPES = frozenset(
    model.event_type
    for model in (e.GatewayPaymentCaptured, e.SettlementRecorded, e.SettlementItemized)
)


def prefetch_settlement(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    settlements: list[tuple[str, ...]] = []
    items: list[tuple[str, ...]] = []
    branches = [
        (ev.tenant_id, ev.payload.get("branch_id") or UNASSIGNED)
        for ev in events
        if ev.event_type == e.GatewayPaymentCaptured.event_type
    ]
    prefetch_branch_keys(uow, branches)
    for ev in events:
        if ev.event_type not in EVENT_TYPES or ev.category != "settlement":
            continue
        key = (ev.tenant_id, ev.payload["provider"], ev.payload["settlement_ref"])
        settlements.append(key)
        for item in ev.payload.get("items", ()):
            items.append((*key, item["item_ref"]))
    if settlements:
        uow.prefetch(SETTLEMENTS, settlements)
    if items:
        uow.prefetch(SETTLEMENT_ITEMS, items)


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
        case e.SettlementItemized():
            _itemize(uow, event.tenant_id, data, audit)


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
    for payment_ref in dict.fromkeys(data.payment_refs):
        uow.put_row(
            SETTLEMENT_PAYMENTS,
            {
                "tenant_id": tenant_id,
                "provider": data.provider,
                "settlement_ref": data.settlement_ref,
                "payment_ref": payment_ref,
                "settled_at": settled_at,
                **audit,
            },
        )


def _itemize(
    uow: WarehouseUnitOfWork, tenant_id: str, data: e.SettlementItemized, audit: dict[str, Any]
) -> None:
    key = (tenant_id, data.provider, data.settlement_ref)
    settlement = uow.get_row(SETTLEMENTS, key)
    if settlement is None:
        raise LookupError(f"fct_settlement has no {data.settlement_ref} of {tenant_id}")
    count = settlement["items_count"] or 0
    net = settlement["items_net_minor"] or 0
    # A line seen before (a fetch that lists it again) replaces its earlier self.
    for item in data.items:
        earlier = uow.get_row(SETTLEMENT_ITEMS, (*key, item.item_ref))
        if earlier is None:
            count += 1
        net += item.net_minor - (earlier["net_minor"] if earlier else 0)
        uow.put_row(
            SETTLEMENT_ITEMS,
            {
                "tenant_id": tenant_id,
                "provider": data.provider,
                "settlement_ref": data.settlement_ref,
                "item_ref": item.item_ref,
                "kind": item.kind,
                "payment_ref": item.payment_ref,
                "amount_minor": item.amount_minor,
                "fee_minor": item.fee_minor,
                "tax_minor": item.tax_minor,
                "net_minor": item.net_minor,
                "currency": data.currency,
                "settled_at": settlement["settled_at"],
                "source": data.source,
                **audit,
            },
        )
    changes = {"items_count": count, "items_net_minor": net}
    changes |= {"updated_at": audit["updated_at"], "last_event_id": audit["last_event_id"]}
    uow.put_row(SETTLEMENTS, {**settlement, **changes})
