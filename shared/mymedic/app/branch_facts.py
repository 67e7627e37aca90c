"""The warehouse's ``dim_branch``: part of the warehouse facts projection. Its time zone
dates money in the marts (int_payment, int_refund, int_forfeiture, int_invoice), by the
branch's own calendar, as fct_appointment's start_date is by the clinic's wall clock."""

from __future__ import annotations

from collections.abc import Sequence

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

BRANCHES = "dim_branch"
CATEGORY = "branch"


def prefetch_branches(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    keys = [(ev.tenant_id, ev.payload["branch_id"]) for ev in events if ev.category == CATEGORY]
    if keys:
        uow.prefetch(BRANCHES, keys)


def apply_branch(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    if not isinstance(data, e.BranchRegistered):
        return
    previous = uow.get_row(BRANCHES, (event.tenant_id, data.branch_id))
    uow.put_row(
        BRANCHES,
        {
            "tenant_id": event.tenant_id,
            "branch_id": data.branch_id,
            "display_name": data.display_name,
            "city": data.city,
            "timezone": data.timezone,
            "currency": data.currency,
            "registered_at": previous["registered_at"] if previous else event.occurred_at,
            "updated_at": event.occurred_at,
            "last_event_id": event.event_id,
        },
    )
