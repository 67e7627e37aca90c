"""The GAQL queries of the sync, built for validated dates only.

Cost comes at three grains (see ``mapping.cost_rows`` for how they are made disjoint):
keywords (``keyword_view``), ad groups (``ad_group``) and campaigns (``campaign``).
Every query is segmented by ``segments.date``, so each row is one day in the account's
time zone. Clicks (``click_view``) can only be asked one day at a time.
"""

from __future__ import annotations

from datetime import date, datetime

METRICS = "metrics.cost_micros, metrics.clicks, metrics.impressions"
CAMPAIGN = "campaign.id, campaign.name"
AD_GROUP = "ad_group.id, ad_group.name"
KEYWORD = (
    "ad_group_criterion.criterion_id, ad_group_criterion.keyword.text, "
    "ad_group_criterion.keyword.match_type"
)
# Longest range one query may ask for: the sync asks for a few days at a time.
MAX_RANGE_DAYS = 366

CUSTOMER_QUERY = "SELECT customer.currency_code, customer.time_zone FROM customer LIMIT 1"


def _day(value: object, name: str) -> str:
    # A datetime is a date too, but a day has no time of day.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")
    return value.isoformat()


def _between(start: date, end: date) -> str:
    first, last = _day(start, "start"), _day(end, "end")
    if end < start:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValueError(f"a range of at most {MAX_RANGE_DAYS} days, not {first}..{last}")
    return f"segments.date BETWEEN '{first}' AND '{last}'"


def keyword_cost_query(start: date, end: date) -> str:
    return (
        f"SELECT {CAMPAIGN}, {AD_GROUP}, {KEYWORD}, segments.date, {METRICS} "
        f"FROM keyword_view WHERE {_between(start, end)}"
    )


def ad_group_cost_query(start: date, end: date) -> str:
    return (
        f"SELECT {CAMPAIGN}, {AD_GROUP}, segments.date, {METRICS} "
        f"FROM ad_group WHERE {_between(start, end)}"
    )


def campaign_cost_query(start: date, end: date) -> str:
    return f"SELECT {CAMPAIGN}, segments.date, {METRICS} FROM campaign WHERE {_between(start, end)}"


def clicks_query(day: date) -> str:
    return (
        f"SELECT click_view.gclid, segments.date, {CAMPAIGN}, {AD_GROUP}, "
        "click_view.keyword, click_view.keyword_info.text, click_view.keyword_info.match_type "
        f"FROM click_view WHERE segments.date = '{_day(day, 'day')}'"
    )
