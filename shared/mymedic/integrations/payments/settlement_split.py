"""Settlements split per clinic: each tenant gets the part of a gateway settlement that
pays out its own payments.

A settlement (a Razorpay settlement, a Stripe payout) is recorded under the tenant that
owns the gateway account (``payments_tenant``): one account may serve several clinics.
Its lines (``gateway.settlement_itemized``), or before that the payments it lists, are
given to the tenant of their payment through the gateway index
(``gateway_index:{provider}:{payment_ref}``, written when a payment's first linked fact
arrived): a ``gateway.settlement_shared`` in that tenant, on its own
``settlement:{provider}:{ref}`` stream. A line no tenant's payment explains (a payment
nobody linked, an adjustment) stays the account's, as unmatched; it waits on
``settlement_awaits:{provider}:{payment_ref}`` and moves to its tenant when the payment's
first linked fact comes (``PaymentIngestor`` splits the settlement again).

Crash-safe with no manual step: the shares are written first, each with a deterministic
event id (written again, it is a duplicate), and the ``gateway.settlement_split`` that
records the whole assignment last, in one transaction with the account's own share. A
split killed midway is finished by the next one: the settlement-detail job splits every
settlement whose split is missing or has unmatched lines.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.integrations.payments.event_ids import payment_event_id
from mymedic.ports import ConcurrencyConflict, EventIdReused, EventStore, StreamAppend

log = logging.getLogger(__name__)

UNMATCHED = "*"  # the bucket of what no tenant's payment explains (the account's)
MAX_ATTEMPTS = 5
ITEM, PAYMENT = "item:", "payment:"


@dataclass
class SplitOutcome:
    split: int = 0  # settlements whose split changed
    unchanged: int = 0
    shares: int = 0  # share events written (in every tenant)

    def add(self, other: SplitOutcome) -> None:
        self.split += other.split
        self.unchanged += other.unchanged
        self.shares += other.shares


@dataclass
class _Settlement:
    """The account's view of one settlement, from its stream."""

    recorded: e.SettlementRecorded
    occurred_at: datetime
    items: dict[str, e.SettlementItem] = field(default_factory=dict)
    source: str = "settlement_listing"
    previous: dict[str, str] = field(default_factory=dict)
    previous_digests: dict[str, str] = field(default_factory=dict)
    version: int = 0

    def keys(self) -> dict[str, str | None]:
        """Each line (or, before itemization, each listed payment) and its payment."""
        if self.items:
            return {f"{ITEM}{ref}": item.payment_ref for ref, item in self.items.items()}
        return {f"{PAYMENT}{ref}": ref for ref in self.recorded.payment_refs}

    def digests(self) -> dict[str, str]:
        return {
            f"{ITEM}{ref}": _digest([item.model_dump_json()]) for ref, item in self.items.items()
        }


def split_settlement(
    store: EventStore,
    account_tenant: str,
    provider: str,
    settlement_ref: str,
    *,
    clock: Callable[[], datetime],
) -> SplitOutcome:
    """Split one settlement of ``account_tenant`` (nothing when it is split already)."""
    stream = e.stream_id(e.SettlementRecorded.category, f"{provider}:{settlement_ref}")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        settlement = _read(store.read_stream(account_tenant, stream))
        if settlement is None:
            return SplitOutcome()
        owners = _owners(store, account_tenant, provider, settlement.keys().values())
        desired = {
            key: owners.get(ref or "") or UNMATCHED for key, ref in settlement.keys().items()
        }
        if (desired, settlement.digests()) == (settlement.previous, settlement.previous_digests):
            return SplitOutcome(unchanged=1)
        plan = _SplitPlan(account_tenant, settlement, desired, clock())
        try:
            shares = plan.write(store)
        except (ConcurrencyConflict, EventIdReused) as exc:
            if attempt == MAX_ATTEMPTS:
                raise
            log.info("settlement %s changed while splitting (%s)", stream, type(exc).__name__)
            continue
        return SplitOutcome(split=1, shares=shares)
    return SplitOutcome()  # pragma: no cover - the loop returns or raises


def awaiting(store: EventStore, account_tenant: str, provider: str, payment_ref: str) -> list[str]:
    """The settlements that pay out this payment and wait to learn its tenant."""
    stream = e.stream_id(e.SettlementAwaitsPayment.category, f"{provider}:{payment_ref}")
    return sorted(
        {
            data.settlement_ref
            for envelope in store.read_stream(account_tenant, stream)
            if isinstance(data := envelope.data(), e.SettlementAwaitsPayment)
        }
    )


def needs_split(history: list[EventEnvelope]) -> bool:
    """Whether a settlement stream of the account still needs (re)splitting: it has
    lines or listed payments no split covers, or a split with unmatched ones."""
    settlement = _read(history)
    if settlement is None:
        return False
    keys = settlement.keys()
    if not keys:
        return False
    return (
        set(keys) != set(settlement.previous)
        or settlement.digests() != settlement.previous_digests
        or UNMATCHED in settlement.previous.values()
    )


def _read(history: list[EventEnvelope]) -> _Settlement | None:
    settlement: _Settlement | None = None
    for envelope in history:
        data = envelope.data()
        if isinstance(data, e.SettlementRecorded) and settlement is None:
            settlement = _Settlement(recorded=data, occurred_at=envelope.occurred_at)
        elif settlement is None:
            continue
        elif isinstance(data, e.SettlementItemized):
            settlement.items.update({item.item_ref: item for item in data.items})
            settlement.source = data.source
        elif isinstance(data, e.SettlementSplit):
            settlement.previous = dict(data.assignments)
            settlement.previous_digests = dict(data.line_digests)
    if settlement is not None:
        settlement.version = len(history)
    return settlement


def _owners(
    store: EventStore, account_tenant: str, provider: str, refs: Iterable[str | None]
) -> dict[str, str]:
    """The tenant of each payment the gateway index knows."""
    found: dict[str, str] = {}
    for ref in sorted({ref for ref in refs if ref}):
        index = e.stream_id(e.GatewayPaymentIndexed.category, f"{provider}:{ref}")
        for envelope in store.read_stream(account_tenant, index):
            if isinstance(data := envelope.data(), e.GatewayPaymentIndexed):
                found[ref] = data.tenant_id
                break
    return found


class _SplitPlan:
    def __init__(
        self,
        account: str,
        settlement: _Settlement,
        desired: dict[str, str],
        now: datetime,
    ) -> None:
        self.account = account
        self.settlement = settlement
        self.desired = desired
        self.now = now
        recorded = settlement.recorded
        self.stream = e.stream_id(
            e.SettlementRecorded.category, f"{recorded.provider}:{recorded.settlement_ref}"
        )

    def write(self, store: EventStore) -> int:
        """Every tenant's share first, then the account's share, its waits and the split
        in one transaction of the account's; the number of shares written."""
        by_tenant = self._changes()
        written = 0
        for tenant in sorted(set(by_tenant) - {self.account}):
            written += self._append_share(store, tenant, by_tenant[tenant])
        appends: list[StreamAppend] = []
        own = by_tenant.get(self.account)
        version = self.settlement.version
        events: list[EventEnvelope] = []
        if own is not None:
            events.append(self._envelope(self.account, own, version + 1))
            written += 1
        items = self.settlement.items
        split = e.SettlementSplit(
            provider=self.settlement.recorded.provider,
            settlement_ref=self.settlement.recorded.settlement_ref,
            assignments=self.desired,
            line_digests=self.settlement.digests(),
            items_count=len(items) if items else None,
            items_net_minor=sum(item.net_minor for item in items.values()) if items else None,
        )
        state = [f"{key}={self.desired[key]}" for key in sorted(self.desired)]
        part = f"split:{_digest(state + sorted(split.line_digests.values()))}"
        events.append(self._build(self.account, split, version + len(events) + 1, part))
        appends.append(StreamAppend(self.stream, version, events))
        appends += self._waits(store)
        store.append_streams(self.account, appends)
        return written

    def _changes(self) -> dict[str, _Change]:
        """Per tenant (the account for the unmatched bucket): what it gains and loses."""
        previous = self.settlement.previous
        digests, earlier = self.settlement.digests(), self.settlement.previous_digests
        changes: dict[str, _Change] = {}
        for key in sorted(set(previous) | set(self.desired)):
            before, after = previous.get(key), self.desired.get(key)
            if before == after and digests.get(key) == earlier.get(key):
                continue
            if before == after:  # the same tenant's line, fetched again with new figures
                before = None
            if before is not None:
                changes.setdefault(self._tenant(before), _Change()).withdrawn.append(key)
            if after is not None:
                change = changes.setdefault(self._tenant(after), _Change())
                change.added.append(key)
                if after == UNMATCHED:
                    change.unmatched.append(key)
        return changes

    def _tenant(self, bucket: str) -> str:
        return self.account if bucket == UNMATCHED else bucket

    def _share(self, change: _Change) -> e.SettlementShared:
        recorded = self.settlement.recorded
        items = self.settlement.items
        return e.SettlementShared(
            provider=recorded.provider,
            settlement_ref=recorded.settlement_ref,
            account_tenant_id=self.account,
            status=recorded.status,
            currency=recorded.currency,
            settled_at=recorded.settled_at or self.settlement.occurred_at,
            bank_reference=recorded.bank_reference,
            source=self.settlement.source,
            items=[items[k.removeprefix(ITEM)] for k in change.added if k.startswith(ITEM)],
            payment_refs=_refs(change.added, PAYMENT),
            unmatched_item_refs=_refs(change.unmatched, ITEM),
            unmatched_payment_refs=_refs(change.unmatched, PAYMENT),
            withdrawn_item_refs=_refs(change.withdrawn, ITEM),
            withdrawn_payment_refs=_refs(change.withdrawn, PAYMENT),
        )

    def _append_share(self, store: EventStore, tenant: str, change: _Change) -> int:
        """Append a clinic's share; 0 when a split killed midway wrote it already."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            history = store.read_stream(tenant, self.stream)
            envelope = self._envelope(tenant, change, len(history) + 1)
            if any(earlier.event_id == envelope.event_id for earlier in history):
                return 0
            try:
                [result] = store.append_streams(
                    tenant, [StreamAppend(self.stream, len(history), [envelope])]
                )
            except ConcurrencyConflict:
                if attempt == MAX_ATTEMPTS:
                    raise
                continue
            return 0 if result.duplicate else 1
        return 0  # pragma: no cover - the loop returns or raises

    def _envelope(self, tenant: str, change: _Change, version: int) -> EventEnvelope:
        # The lines' figures too: a line fetched again with new figures is a new share.
        digests = self.settlement.digests()
        added = [f"{key}={digests.get(key, '')}" for key in change.added]
        part = f"share:{tenant}:{_digest([*added, '-', *change.withdrawn])}"
        return self._build(tenant, self._share(change), version, part)

    def _waits(self, store: EventStore) -> list[StreamAppend]:
        """A wait for each unmatched payment, on the payment's own stream (once)."""
        recorded = self.settlement.recorded
        refs = {
            ref
            for key, bucket in self.desired.items()
            if bucket == UNMATCHED
            and (ref := self.settlement.keys().get(key))
            and key not in self.settlement.previous
        }
        appends = []
        for ref in sorted(refs):
            wait = e.SettlementAwaitsPayment(
                provider=recorded.provider, payment_ref=ref, settlement_ref=recorded.settlement_ref
            )
            stream = wait.stream_id()
            history = store.read_stream(self.account, stream)
            envelope = self._build(self.account, wait, len(history) + 1, f"awaits:{ref}")
            if not any(earlier.event_id == envelope.event_id for earlier in history):
                appends.append(StreamAppend(stream, len(history), [envelope]))
        return appends

    def _build(
        self, tenant: str, payload: e.EventPayload, version: int, part: str
    ) -> EventEnvelope:
        recorded = self.settlement.recorded
        return build_envelope(
            payload,
            metadata=Metadata(
                tenant_id=tenant,
                actor=f"integration:{recorded.provider}",
                source="settlement-split",
                correlation_id=recorded.provider_event_id,
            ),
            branch_id=None,
            stream_version=version,
            occurred_at=self.settlement.occurred_at,
            recorded_at=self.now,
            event_id=payment_event_id(
                self.account, recorded.provider, recorded.settlement_ref, part
            ),
        )


@dataclass
class _Change:
    added: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)


def _refs(keys: list[str], prefix: str) -> list[str]:
    return [key.removeprefix(prefix) for key in keys if key.startswith(prefix)]


def _digest(keys: list[str]) -> str:
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()[:32]
