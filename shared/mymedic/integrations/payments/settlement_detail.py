"""The ``settlement-detail`` job: fetch the lines of the settlements whose webhook did not
list them, and record them as ``gateway.settlement_itemized`` on the settlement's stream.

A settlement needs its detail when its ``gateway.settlement_recorded`` lists no payment
and no ``gateway.settlement_itemized`` follows it. The lines come from the provider's
API (see :mod:`settlement_clients`); Razorpay's recon is asked for the settlement's
day in IST (its ``settled_at``, else when it was reported). The event goes to the tenant
the settlement was recorded in, at the stream's current version, with a UUID v5 id of
(tenant, provider, settlement, "itemized"): a re-run, or a run racing this one, appends
nothing. A provider whose API credentials are not configured is reported and left
alone; no lines yet (the recon is published after the payout) is reported and retried
on the next run.

Each itemized settlement is then split per clinic (:mod:`settlement_split`), and so is
every settlement whose split is missing or still has lines no tenant's payment explained
(a split killed midway, a capture that came late): no manual step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from mymedic.app.commands import utc_now
from mymedic.app.event_log import every_event
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.integrations.payments.event_ids import payment_event_id
from mymedic.integrations.payments.gateway_http import GatewayApiError, GatewayUnavailable
from mymedic.integrations.payments.settlement_clients import (
    RazorpayReconClient,
    SettlementLines,
    StripeBalanceClient,
)
from mymedic.integrations.payments.settlement_split import needs_split, split_settlement
from mymedic.ports import ConcurrencyConflict, EventIdReused, EventStore
from mymedic.settings import Settings

log = logging.getLogger(__name__)

JOB = "settlement-detail"
IST = ZoneInfo("Asia/Kolkata")
HTTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PendingSettlement:
    tenant_id: str
    provider: str
    settlement_ref: str
    currency: str
    occurred_at: datetime
    settled_at: datetime | None
    correlation_id: str

    @property
    def stream(self) -> str:
        return e.stream_id(e.SettlementRecorded.category, f"{self.provider}:{self.settlement_ref}")

    @property
    def settled_on(self) -> date:
        """The settlement's day in IST (Razorpay's recon is by Indian date)."""
        return (self.settled_at or self.occurred_at).astimezone(IST).date()


Fetcher = Callable[[PendingSettlement], SettlementLines]


class NotConfigured(GatewayApiError):
    """The provider's API credentials are not set: nothing is fetched from it."""


@dataclass
class DetailOutcome:
    itemized: int = 0
    already: int = 0  # listed its payments, or itemized by an earlier run
    failed: list[dict[str, str]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # providers that were down
    split: int = 0  # settlements whose split per clinic changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": JOB,
            "itemized": self.itemized,
            "already": self.already,
            "failed": self.failed,
            "split": self.split,
        }


def pending_settlements(store: EventStore) -> tuple[list[PendingSettlement], int]:
    """The settlements that need their lines, and how many need none."""
    recorded: dict[tuple[str, str], PendingSettlement] = {}
    done: set[tuple[str, str]] = set()
    for envelope in every_event(store):
        key = (envelope.tenant_id, envelope.stream_id)
        if envelope.event_type == e.SettlementItemized.event_type:
            done.add(key)
        elif envelope.event_type == e.SettlementRecorded.event_type:
            data = envelope.data()
            assert isinstance(data, e.SettlementRecorded)  # noqa: S101 - by its event type
            if data.payment_refs:
                done.add(key)
            recorded.setdefault(key, _pending(envelope, data))
    pending = [settlement for key, settlement in sorted(recorded.items()) if key not in done]
    return pending, len(recorded) - len(pending)


def _pending(envelope: EventEnvelope, data: e.SettlementRecorded) -> PendingSettlement:
    return PendingSettlement(
        tenant_id=envelope.tenant_id,
        provider=data.provider,
        settlement_ref=data.settlement_ref,
        currency=data.currency,
        occurred_at=envelope.occurred_at,
        settled_at=data.settled_at,
        correlation_id=data.provider_event_id,
    )


def itemize_settlements(
    store: EventStore,
    fetchers: dict[str, Fetcher | NotConfigured],
    *,
    clock: Callable[[], datetime] = utc_now,
) -> DetailOutcome:
    pending, already = pending_settlements(store)
    outcome = DetailOutcome(already=already)
    for settlement in pending:
        fetcher = fetchers.get(settlement.provider) or NotConfigured(
            f"{settlement.provider}: no API client"
        )
        if isinstance(fetcher, NotConfigured):
            _fail(outcome, settlement, fetcher)
            continue
        if settlement.provider in outcome.unavailable:  # not asked again in this run
            _fail(outcome, settlement, f"{settlement.provider} is unavailable")
            continue
        try:
            lines = fetcher(settlement)
        except GatewayUnavailable as exc:
            outcome.unavailable.append(settlement.provider)
            _fail(outcome, settlement, exc)
            continue
        except GatewayApiError as exc:
            _fail(outcome, settlement, exc)
            continue
        if not lines.items:
            _fail(outcome, settlement, "the gateway lists no lines for it yet")
        elif lines.currency not in (None, settlement.currency):
            _fail(
                outcome, settlement, f"lines in {lines.currency}, settled in {settlement.currency}"
            )
        elif _append(store, settlement, lines, clock()):
            outcome.itemized += 1
        else:
            outcome.already += 1
    outcome.split = split_pending(store, clock=clock)
    return outcome


def split_pending(store: EventStore, *, clock: Callable[[], datetime] = utc_now) -> int:
    """Split every settlement that needs it; how many changed."""
    streams = sorted(
        {
            (envelope.tenant_id, envelope.stream_id)
            for envelope in every_event(store)
            if envelope.event_type == e.SettlementRecorded.event_type
        }
    )
    changed = 0
    for tenant, stream in streams:
        history = store.read_stream(tenant, stream)
        if not needs_split(history):
            continue
        data = history[0].data()
        assert isinstance(data, e.SettlementRecorded)  # noqa: S101 - the stream's first
        outcome = split_settlement(store, tenant, data.provider, data.settlement_ref, clock=clock)
        changed += outcome.split
    return changed


def _fail(outcome: DetailOutcome, settlement: PendingSettlement, error: object) -> None:
    log.warning("settlement %s not itemized: %s", settlement.settlement_ref, error)
    outcome.failed.append(
        {
            "provider": settlement.provider,
            "settlement_ref": settlement.settlement_ref,
            "error": str(error),
        }
    )


def _append(
    store: EventStore, settlement: PendingSettlement, lines: SettlementLines, now: datetime
) -> bool:
    """Append the itemization; False when the stream has one already (a racing run)."""
    payload = e.SettlementItemized(
        provider=settlement.provider,
        settlement_ref=settlement.settlement_ref,
        source=lines.source,
        currency=settlement.currency,
        items=list(lines.items),
    )
    event_id = payment_event_id(
        settlement.tenant_id, settlement.provider, settlement.settlement_ref, "itemized"
    )
    metadata = Metadata(
        tenant_id=settlement.tenant_id,
        actor=f"integration:{settlement.provider}",
        source=f"job:{JOB}",
        correlation_id=settlement.correlation_id,
    )
    for attempt in (1, 2):
        history = store.read_stream(settlement.tenant_id, settlement.stream)
        if any(env.event_type == e.SettlementItemized.event_type for env in history):
            return False
        envelope = build_envelope(
            payload,
            metadata=metadata,
            branch_id=None,
            stream_version=len(history) + 1,
            occurred_at=settlement.occurred_at,
            recorded_at=now,
            event_id=event_id,
        )
        try:
            result = store.append(settlement.tenant_id, settlement.stream, len(history), [envelope])
        except (ConcurrencyConflict, EventIdReused):
            if attempt == 2:
                raise
            log.info("settlement %s changed while itemizing; reading it again", settlement.stream)
            continue
        return not result.duplicate
    return False  # pragma: no cover - the loop returns or raises


# --- the providers' clients, from the settings ----------------------------------------


def fetchers_from_settings(
    settings: Settings, http: httpx.Client, *, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Fetcher | NotConfigured]:
    """A fetcher per provider, or why there is none (credentials not configured)."""
    found: dict[str, Fetcher | NotConfigured] = {}
    key_id, key_secret = settings.razorpay_key_id, settings.razorpay_key_secret
    if key_id is None or key_secret is None:
        found["razorpay"] = NotConfigured(
            "razorpay API credentials are not configured "
            "(MYMEDIC_RAZORPAY_KEY_ID, MYMEDIC_RAZORPAY_KEY_SECRET)"
        )
    else:
        razorpay = RazorpayReconClient(
            http, key_id.get_secret_value(), key_secret.get_secret_value(), sleep=sleep
        )
        found["razorpay"] = lambda s: razorpay.settlement_lines(s.settlement_ref, s.settled_on)
    if settings.stripe_api_key is None:
        found["stripe"] = NotConfigured("stripe API key is not configured (MYMEDIC_STRIPE_API_KEY)")
    else:
        stripe = StripeBalanceClient(http, settings.stripe_api_key.get_secret_value(), sleep=sleep)
        found["stripe"] = lambda s: stripe.settlement_lines(s.settlement_ref)
    return found


def open_http() -> httpx.Client:
    """The HTTP client of one run (tests replace it with one over a mock transport)."""
    return httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)


def run_settlement_detail(
    store: EventStore,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> DetailOutcome:
    """The job with the production clients."""
    with open_http() as http:
        fetchers = fetchers_from_settings(settings, http, sleep=sleep)
        return itemize_settlements(store, fetchers, clock=clock)
