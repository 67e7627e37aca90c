"""The warehouse's Google Ads facts: ``fct_ad_cost``, ``fct_ad_click`` and the ledger of
revision parts ``fct_ad_revision_part``. Part of the warehouse facts projection.

Rows are only ever added: each carries the revision it belongs to, and the marts keep
the latest complete revision of each account's day. So a restatement that drops a row
drops it from the marts, and a replay (in any order of streams, or a batch that ends
between two parts of a revision) writes the same rows.
"""

from __future__ import annotations

from typing import Any

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

COST = "fct_ad_cost"
CLICKS = "fct_ad_click"
REVISION_PARTS = "fct_ad_revision_part"
ADS_TABLES = (COST, CLICKS, REVISION_PARTS)
CATEGORIES = frozenset({e.AdCostRecorded.category, e.AdClicksRecorded.category})
EVENT_TYPES = frozenset({e.AdCostRecorded.event_type, e.AdClicksRecorded.event_type})
NONE_ID = -1  # "no ad group" / "no keyword" in fct_ad_cost's key (Google ids are >= 0)


def apply_ads(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    if not isinstance(data, e.AdCostRecorded | e.AdClicksRecorded):
        return
    day = {
        "tenant_id": event.tenant_id,
        "customer_id": data.customer_id,
        "day": data.day,
        "revision": data.revision,
        "recorded_at": event.recorded_at,
        "last_event_id": event.event_id,
    }
    if isinstance(data, e.AdCostRecorded):
        for row in data.rows:
            uow.put_row(COST, {**day, **_cost(row), "currency": data.currency})
        kind, currency, count = "cost", data.currency, len(data.rows)
    else:
        for click in data.clicks:
            uow.put_row(CLICKS, {**day, **click.model_dump()})
        kind, currency, count = "clicks", None, len(data.clicks)
    uow.put_row(
        REVISION_PARTS,
        {
            **day,
            "kind": kind,
            "part": data.part,
            "parts": data.parts,
            "content_hash": data.content_hash,
            "currency": currency,
            "time_zone": data.time_zone,
            "row_count": count,
        },
    )


def _cost(row: e.AdCostRow) -> dict[str, Any]:
    values = row.model_dump()
    for column in ("ad_group_id", "keyword_id"):
        if values[column] is None:
            values[column] = NONE_ID
    return values
