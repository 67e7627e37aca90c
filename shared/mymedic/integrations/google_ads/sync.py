"""The Google Ads sync of one tenant: each ad account's cost and clicks, per day, into
``ad_cost:{customer}:{day}`` and ``ad_clicks:{customer}:{day}``.

Google restates the cost of recent days, so a run reads the requested days plus the
``RESTATEMENT_DAYS`` days before today (in the account's time zone) and records a day
again only when its content changed: a new revision whose ``content_hash`` differs from
the stream's last event. A day that never had content records nothing.

Event ids are UUID v5 of (tenant, customer, day, kind, revision, hash, part): two runs
at once plan the same events, and the second one's append is a no-op (or loses the
race and, reading the stream again, finds the day unchanged).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import BaseModel

from mymedic.app.commands import utc_now
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.integrations.google_ads.source import (
    Account,
    AdsSource,
    AdsSourceError,
    AdsSourceUnavailable,
)
from mymedic.ports import ConcurrencyConflict, EventStore

log = logging.getLogger(__name__)

# Namespace of the sync's event ids (fixed: ids must never change).
ADS_NAMESPACE = UUID("5d3c1c8e-7a0b-4f4e-9b1e-2f6a8c0d9e47")
RESTATEMENT_DAYS = 3
CLICK_VIEW_MAX_AGE_DAYS = 90  # click_view answers for the last 90 days only
ACTOR = "integration:google_ads"
_APPEND_ATTEMPTS = 3


class DayTooLarge(AdsSourceError):
    """More rows in one day than a revision can hold."""


@dataclass
class SyncReport:
    tenant_id: str
    start: date
    end: date
    cost_days_recorded: int = 0
    cost_days_unchanged: int = 0
    click_days_recorded: int = 0
    click_days_unchanged: int = 0
    clicks_recorded: int = 0
    # "customer:day" whose clicks click_view no longer serves
    click_days_skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # customer -> why
    unavailable: bool = False  # a failure was transient: run again later

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def content_hash(currency: str | None, items: Sequence[BaseModel]) -> str:
    body = orjson.dumps(
        {"currency": currency, "items": [item.model_dump(mode="json") for item in items]},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def ads_event_id(*parts: object) -> str:
    return str(uuid5(ADS_NAMESPACE, "\x1f".join(str(part) for part in parts)))


def spans(start: date, end: date, today: date) -> list[tuple[date, date]]:
    """The requested range and the trailing restatement window, merged when they touch."""
    trailing = (today - timedelta(days=RESTATEMENT_DAYS), today - timedelta(days=1))
    ranges = sorted([(start, end), trailing])
    merged = [ranges[0]]
    for first, last in ranges[1:]:
        if first <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _today(clock: Callable[[], datetime], account: Account) -> date:
    try:
        zone = ZoneInfo(account.time_zone) if account.time_zone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    now = clock()
    return (now.astimezone(zone) if zone else now).date()


@dataclass(frozen=True)
class _Day:
    kind: Literal["cost", "clicks"]
    customer: str
    day: date
    account: Account


class AdsCostSync:
    def __init__(
        self,
        store: EventStore,
        source: AdsSource,
        *,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[], object] | None = None,
    ) -> None:
        self._store = store
        self._source = source
        self._clock = clock
        self._after_commit = after_commit

    def run(self, tenant_id: str, customers: Sequence[str], start: date, end: date) -> SyncReport:
        if end < start:
            raise ValueError("the range ends before it starts")
        report = SyncReport(tenant_id, start, end)
        metadata = Metadata(tenant_id=tenant_id, actor=ACTOR, source="google_ads:sync")
        for customer in customers:
            try:
                self._customer(report, metadata, customer, start, end)
            except AdsSourceError as exc:
                log.warning("google ads sync of %s failed: %s", customer, exc)
                report.failed[customer] = str(exc)[:500]
                report.unavailable |= isinstance(exc, AdsSourceUnavailable)
        if (report.cost_days_recorded or report.click_days_recorded) and self._after_commit:
            self._after_commit()
        return report

    def _customer(
        self, report: SyncReport, metadata: Metadata, customer: str, start: date, end: date
    ) -> None:
        account = self._source.account(customer)
        today = _today(self._clock, account)
        oldest_clicks = today - timedelta(days=CLICK_VIEW_MAX_AGE_DAYS - 1)
        for first, last in spans(start, end, today):
            cost = self._source.cost_rows(customer, first, last)
            for day in _days(first, last):
                rows = cost.get(day, [])
                if self._record(metadata, _Day("cost", customer, day, account), rows):
                    report.cost_days_recorded += 1
                else:
                    report.cost_days_unchanged += 1
            for day in _days(first, last):
                if day < oldest_clicks:
                    report.click_days_skipped.append(f"{customer}:{day.isoformat()}")
                    continue
                clicks = self._source.clicks(customer, day)
                if self._record(metadata, _Day("clicks", customer, day, account), clicks):
                    report.click_days_recorded += 1
                    report.clicks_recorded += len(clicks)
                else:
                    report.click_days_unchanged += 1

    def _record(self, metadata: Metadata, target: _Day, items: Sequence[BaseModel]) -> bool:
        """Append the day's revision unless its content is the stream's last; True when
        this run appended it."""
        kind, customer, day = target.kind, target.customer, target.day
        digest = content_hash(target.account.currency if kind == "cost" else None, items)
        stream = e.stream_id(f"ad_{kind}", f"{customer}:{day.isoformat()}")
        size = e.ADS_ROWS_PER_EVENT
        chunks = [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]
        if len(chunks) > e.ADS_MAX_PARTS:
            raise DayTooLarge(
                f"customer {customer}: {len(items)} {kind} rows on {day}, "
                f"more than {size * e.ADS_MAX_PARTS} a day"
            )
        attempt = 0
        while True:
            attempt += 1
            history = self._store.read_stream(metadata.tenant_id, stream)
            last = history[-1].data() if history else None
            if isinstance(last, e.AdCostRecorded | e.AdClicksRecorded):
                if last.content_hash == digest:
                    return False
                revision = last.revision + 1
            elif not items:
                return False
            else:
                revision = 1
            envelopes = self._envelopes(
                metadata,
                target,
                chunks=chunks,
                digest=digest,
                revision=revision,
                version=len(history),
            )
            try:
                result = self._store.append(metadata.tenant_id, stream, len(history), envelopes)
            except ConcurrencyConflict:
                if attempt >= _APPEND_ATTEMPTS:
                    raise
                continue
            return not result.duplicate

    def _envelopes(
        self,
        metadata: Metadata,
        target: _Day,
        *,
        chunks: list[list[BaseModel]],
        digest: str,
        revision: int,
        version: int,
    ) -> list[EventEnvelope]:
        kind, customer, day, account = target.kind, target.customer, target.day, target.account
        now = self._clock()
        run = metadata.model_copy(update={"correlation_id": str(uuid4())})
        envelopes = []
        for number, chunk in enumerate(chunks, start=1):
            common: dict[str, Any] = {
                "customer_id": customer,
                "day": day,
                "time_zone": account.time_zone,
                "revision": revision,
                "part": number,
                "parts": len(chunks),
                "content_hash": digest,
            }
            payload: e.EventPayload = (
                e.AdCostRecorded(**common, currency=account.currency, rows=chunk)
                if kind == "cost"
                else e.AdClicksRecorded(**common, clicks=chunk)
            )
            event_id = ads_event_id(
                metadata.tenant_id, customer, day.isoformat(), kind, revision, digest, number
            )
            envelopes.append(
                build_envelope(
                    payload,
                    metadata=run,
                    branch_id=None,
                    stream_version=version + number,
                    occurred_at=now,
                    recorded_at=now,
                    event_id=event_id,
                )
            )
        return envelopes
