"""The warehouse's ``dim_branch``: part of the warehouse facts projection. Its time zone
dates money (fct_payment.paid_date, fct_refund.refunded_date, fct_invoice.issued_date,
fct_forfeiture.forfeited_date, fct_gateway_payment.captured_date) by the branch's own
calendar, as fct_appointment's start_date is by the clinic's wall clock: ``local_date``,
when the projection writes the row. A branch is registered once (the registration
creates its stream) and before any appointment of it, so the store's global order has
it before the branch's money; whatever order events are delivered in, the runner
applies the registration first (``WarehouseFactsProjection.requires``). A branch no one
registered (a capture's 'unassigned') dates by UTC."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

BRANCHES = "dim_branch"
CATEGORY = "branch"


def prefetch_branches(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    keys = [(ev.tenant_id, ev.payload["branch_id"]) for ev in events if ev.category == CATEGORY]
    if keys:
        uow.prefetch(BRANCHES, keys)


def prefetch_branch_keys(uow: WarehouseUnitOfWork, keys: Iterable[tuple[str, str]]) -> None:
    wanted = list(dict.fromkeys(keys))
    if wanted:
        uow.prefetch(BRANCHES, wanted)


def local_date(uow: WarehouseUnitOfWork, tenant_id: str, branch_id: str, at: datetime) -> date:
    """The calendar date of ``at`` in the branch's time zone (UTC: a branch not known)."""
    branch = uow.get_row(BRANCHES, (tenant_id, branch_id))
    return at.astimezone(_zone(branch["timezone"] if branch else "UTC")).date()


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


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
