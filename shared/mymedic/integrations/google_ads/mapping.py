"""Google Ads rows (``GoogleAdsRow``, proto-plus) into the rows of our events. Pure.

The grain of a day's cost rows: each unit of cost is in exactly one row.

- keyword rows (``keyword_view``): campaign, ad group and keyword set;
- an ad group's remainder: its ``ad_group`` metrics less what its keywords account for
  (dynamic search ads, display...), with ``keyword_id`` None;
- a campaign's remainder: its ``campaign`` metrics less what its ad groups account for
  (Performance Max, which has no ad groups...), with ``ad_group_id`` None.

So the sum of a day's rows is the account's total for the day, and summing only the
keyword rows gives the keyword-attributed part. When Google's figures disagree (a part
larger than its whole) the remainder is clamped at zero and the disagreement logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from mymedic.domain.events import AdClick, AdCostRow

log = logging.getLogger(__name__)

_NO_MATCH_TYPE = frozenset({"UNSPECIFIED", "UNKNOWN"})


@dataclass(frozen=True)
class Metrics:
    cost_micros: int = 0
    clicks: int = 0
    impressions: int = 0

    def __add__(self, other: Metrics) -> Metrics:
        return Metrics(
            self.cost_micros + other.cost_micros,
            self.clicks + other.clicks,
            self.impressions + other.impressions,
        )

    def most(self, other: Metrics) -> Metrics:
        return Metrics(
            max(self.cost_micros, other.cost_micros),
            max(self.clicks, other.clicks),
            max(self.impressions, other.impressions),
        )

    def less(self, part: Metrics, what: str) -> Metrics:
        rest = Metrics(
            self.cost_micros - part.cost_micros,
            self.clicks - part.clicks,
            self.impressions - part.impressions,
        )
        if min(rest.cost_micros, rest.clicks, rest.impressions) < 0:
            log.warning("google ads: %s adds up to more than its total (%s)", what, rest)
        return Metrics(max(rest.cost_micros, 0), max(rest.clicks, 0), max(rest.impressions, 0))

    @property
    def empty(self) -> bool:
        return not (self.cost_micros or self.clicks or self.impressions)


def metrics(row: Any) -> Metrics:
    m = row.metrics
    return Metrics(int(m.cost_micros), int(m.clicks), int(m.impressions))


def row_day(row: Any) -> date:
    return date.fromisoformat(row.segments.date)


def _match_type(value: Any) -> str | None:
    name = getattr(value, "name", None)
    return None if not name or name in _NO_MATCH_TYPE else str(name)


def _optional_id(value: int) -> int | None:
    return int(value) or None


def _criterion_id(resource_name: str) -> int | None:
    """``customers/1/adGroupCriteria/{ad_group_id}~{criterion_id}`` -> criterion_id."""
    _, _, criterion = resource_name.rpartition("~")
    return int(criterion) if criterion.isdigit() else None


def cost_rows(
    keyword_rows: Iterable[Any], ad_group_rows: Iterable[Any], campaign_rows: Iterable[Any]
) -> dict[date, list[AdCostRow]]:
    """The cost rows of each day, from the three queries' rows (see the module doc)."""
    days: dict[date, list[AdCostRow]] = defaultdict(list)
    keyword_sums: dict[tuple[date, int, int], Metrics] = defaultdict(Metrics)
    for row in keyword_rows:
        day, amount = row_day(row), metrics(row)
        if amount.empty:
            continue
        keyword = row.ad_group_criterion
        days[day].append(
            AdCostRow(
                campaign_id=row.campaign.id,
                campaign_name=row.campaign.name,
                ad_group_id=row.ad_group.id,
                ad_group_name=row.ad_group.name,
                keyword_id=keyword.criterion_id,
                keyword_text=keyword.keyword.text or None,
                match_type=_match_type(keyword.keyword.match_type),
                cost_micros=amount.cost_micros,
                clicks=amount.clicks,
                impressions=amount.impressions,
            )
        )
        keyword_sums[(day, row.campaign.id, row.ad_group.id)] += amount

    # What each ad group accounts for: its own figures, or its keywords' if Google
    # reported those without the ad group.
    accounted: dict[tuple[date, int, int], Metrics] = dict(keyword_sums)
    for row in ad_group_rows:
        day, amount = row_day(row), metrics(row)
        key = (day, row.campaign.id, row.ad_group.id)
        rest = amount.less(keyword_sums.get(key, Metrics()), f"ad group {key[2]} on {day}")
        accounted[key] = amount.most(accounted.get(key, Metrics()))
        if not rest.empty:
            days[day].append(
                AdCostRow(
                    campaign_id=row.campaign.id,
                    campaign_name=row.campaign.name,
                    ad_group_id=row.ad_group.id,
                    ad_group_name=row.ad_group.name,
                    cost_micros=rest.cost_micros,
                    clicks=rest.clicks,
                    impressions=rest.impressions,
                )
            )

    in_ad_groups: dict[tuple[date, int], Metrics] = defaultdict(Metrics)
    for (day, campaign_id, _), amount in accounted.items():
        in_ad_groups[(day, campaign_id)] += amount
    for row in campaign_rows:
        day, amount = row_day(row), metrics(row)
        part = in_ad_groups.get((day, row.campaign.id), Metrics())
        rest = amount.less(part, f"campaign {row.campaign.id} on {day}")
        if not rest.empty:
            days[day].append(
                AdCostRow(
                    campaign_id=row.campaign.id,
                    campaign_name=row.campaign.name,
                    cost_micros=rest.cost_micros,
                    clicks=rest.clicks,
                    impressions=rest.impressions,
                )
            )
    return {day: sorted(rows, key=_cost_order) for day, rows in days.items()}


def _cost_order(row: AdCostRow) -> tuple[int, int, int]:
    return (row.campaign_id, row.ad_group_id or -1, row.keyword_id or -1)


def clicks(rows: Iterable[Any]) -> list[AdClick]:
    """One click per GCLID (the first row of it), in GCLID order."""
    found: dict[str, AdClick] = {}
    for row in rows:
        view = row.click_view
        if not view.gclid or view.gclid in found:
            continue
        found[view.gclid] = AdClick(
            gclid=view.gclid,
            campaign_id=row.campaign.id,
            campaign_name=row.campaign.name,
            ad_group_id=_optional_id(row.ad_group.id),
            ad_group_name=row.ad_group.name or None,
            keyword_id=_criterion_id(view.keyword),
            keyword_text=view.keyword_info.text or None,
            match_type=_match_type(view.keyword_info.match_type),
        )
    return [found[gclid] for gclid in sorted(found)]
