"""The reconciliation of one branch-day: what we recorded against what the gateways say.

Pure: no I/O, no clock. The caller gives every input already placed on its
branch-local day; :func:`reconcile` returns one :class:`DayReconciliation` per
(tenant, branch, currency) that has anything on ``day``. Money is integer minor units of
the currency it names; nothing is ever converted or summed across currencies.

Matching rules:

- a payment we recorded in cash needs no gateway: it is cash collected;
- any other payment we recorded (card, UPI; taken through a gateway or keyed at the
  console) is matched to the gateway capture whose payment reference is its
  ``provider_reference``; none found -> ``no_gateway_capture``; amounts differ ->
  ``amount_mismatch``;
- a gateway capture of the day that no recorded payment references ->
  ``not_linked`` (with the reason the ingestion gave, ``payment.unmatched``);
- a capture is settled when a settlement lists it (its payment reference in the
  settlement's ``payment_refs``, or a payment line of its ``items``, the detail fetched
  by the settlement-detail job); its net (amount - fee; the gateways' fee includes the
  tax on it) counts as settled on the capture's own day, so one settlement may settle
  several days; a capture older than ``settle_within_days`` on ``as_of`` that no
  settlement lists -> ``not_settled``. A capture whose fee the gateway did not report
  (``fee_known`` false: a Stripe webhook) takes the fee of its settlement line;
- a payment line whose fee differs from the fee its capture reported -> ``fee_mismatch``
  (on the capture's day and branch, the line's fee - the capture's);
- a settlement listing a payment no capture is known for -> ``settled_not_captured``
  (on the settlement's day);
- a settlement with lines must pay out the sum of their nets (payments add, refunds,
  disputes and adjustments deduct); one without lines must pay out the sum of the nets
  of the captures it lists; else -> ``settlement_mismatch`` (on the settlement's day,
  the settled amount - that sum). A settlement listing neither payments nor lines ->
  ``not_itemized`` (on its day): run the settlement-detail job to fetch its lines;
- a refund we recorded whose id is a lost dispute's is a reversal (chargeback), any
  other a refund. A refund of a payment we recorded as non-cash with a provider
  reference is matched to the gateway refund of that payment (not failed or cancelled)
  whose ``refund_id`` (the id we set when we asked for it) or ``refund_ref`` (a refund the
  gateway initiated is recorded under its own id) is the refund's id; none ->
  ``no_gateway_refund``; amounts differ -> ``refund_amount_mismatch`` (ours - the
  gateway's). Cash refunds need no gateway;
- other facts the ingestion could not apply -> ``not_applied``.

Same inputs, same output: everything is sorted, nothing depends on input order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal, Protocol, TypeVar

UNASSIGNED = "unassigned"  # the branch of a gateway fact that names none
Side = Literal["ours", "gateway"]
_T = TypeVar("_T")


@dataclass(frozen=True)
class RecordedPayment:
    """A payment we recorded (appointment deposit or payment, invoice payment)."""

    tenant_id: str
    branch_id: str
    day: date
    payment_id: str
    amount_minor: int
    currency: str
    mode: str  # cash | card | upi
    provider: str  # cash | console | stripe | razorpay
    kind: str = "payment"  # deposit | payment
    provider_reference: str | None = None
    invoice_id: str | None = None


@dataclass(frozen=True)
class RecordedRefund:
    tenant_id: str
    branch_id: str
    day: date
    refund_id: str
    payment_id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Forfeiture:
    tenant_id: str
    branch_id: str
    day: date
    appointment_id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class InvoiceBalance:
    """An invoice issued on ``day``, with ``paid_minor`` its payments net of refunds and
    ``credited_minor`` its credit notes (what it billed and no longer claims)."""

    tenant_id: str
    branch_id: str
    day: date
    invoice_id: str
    amount_minor: int
    paid_minor: int
    currency: str
    credited_minor: int = 0


@dataclass(frozen=True)
class GatewayCapture:
    tenant_id: str
    branch_id: str | None
    day: date
    provider: str
    payment_ref: str
    amount_minor: int
    currency: str
    fee_minor: int = 0
    tax_minor: int = 0
    fee_known: bool = True  # False: the gateway did not say (its settlement line will)


@dataclass(frozen=True)
class GatewayRefund:
    """A refund at the gateway, with its latest status."""

    provider: str
    refund_ref: str
    refund_id: str | None  # ours, when we asked for the refund
    payment_ref: str
    status: str  # pending | processed | failed | cancelled
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class GatewayDispute:
    provider: str
    payment_ref: str
    dispute_ref: str
    phase: str  # the latest phase: opened | under_review | won | lost | closed
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class GatewayUnmatched:
    """A ``payment.unmatched`` fact: recorded by the ingestion, not applied."""

    tenant_id: str
    branch_id: str | None
    day: date
    provider: str
    payment_ref: str
    fact_event_type: str
    reason: str
    amount_minor: int | None
    currency: str | None


@dataclass(frozen=True)
class SettledItem:
    """A line of a settlement: ``net_minor`` is what it adds (negative: deducts);
    ``fee_minor`` includes ``tax_minor``."""

    kind: str  # payment | refund | dispute | adjustment | other
    item_ref: str
    payment_ref: str | None
    amount_minor: int
    fee_minor: int
    tax_minor: int
    net_minor: int


@dataclass(frozen=True)
class Settlement:
    tenant_id: str
    day: date
    provider: str
    settlement_ref: str
    amount_minor: int  # what reached the bank
    currency: str
    fee_minor: int = 0
    tax_minor: int = 0
    payment_refs: tuple[str, ...] = ()
    items: tuple[SettledItem, ...] = ()

    def listed(self) -> set[str]:
        """The payments it pays out: listed, or a payment line."""
        lines = {i.payment_ref for i in self.items if i.kind == "payment" and i.payment_ref}
        return set(self.payment_refs) | lines


@dataclass(frozen=True)
class DayInputs:
    """Everything the day needs; items of other days are used for matching only."""

    payments: Sequence[RecordedPayment] = ()
    refunds: Sequence[RecordedRefund] = ()
    forfeitures: Sequence[Forfeiture] = ()
    invoices: Sequence[InvoiceBalance] = ()
    captures: Sequence[GatewayCapture] = ()
    gateway_refunds: Sequence[GatewayRefund] = ()
    disputes: Sequence[GatewayDispute] = ()
    unmatched: Sequence[GatewayUnmatched] = ()
    settlements: Sequence[Settlement] = ()


@dataclass(frozen=True, order=True)
class UnmatchedItem:
    side: Side
    reason: str
    reference: str
    amount_minor: int | None
    detail: str = ""


@dataclass(frozen=True)
class DayReconciliation:
    tenant_id: str
    branch_id: str
    day: date
    currency: str
    expected_minor: int = 0  # payments recorded - refunds - reversals
    captured_minor: int = 0  # gross captured at the gateways
    settled_minor: int = 0  # net of the day's captures that a settlement lists
    fees_minor: int = 0
    tax_minor: int = 0  # tax on the gateways' fees
    cash_minor: int = 0
    deposits_held_minor: int = 0  # deposits taken - refunded - forfeited (a day's flow)
    forfeitures_minor: int = 0
    refunds_minor: int = 0
    reversals_minor: int = 0
    outstanding_minor: int = 0  # of the invoices issued that day
    awaiting_settlement_minor: int = 0  # net captured, not settled, still within time
    unmatched: tuple[UnmatchedItem, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.branch_id}:{self.day.isoformat()}:{self.currency}"

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "unmatched"
        }
        doc["day"] = self.day.isoformat()
        doc["unmatched"] = [
            {
                "side": item.side,
                "reason": item.reason,
                "reference": item.reference,
                "amount_minor": item.amount_minor,
                "detail": item.detail,
            }
            for item in self.unmatched
        ]
        return doc


@dataclass
class _Totals:
    figures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    items: list[UnmatchedItem] = field(default_factory=list)


_GroupKey = tuple[str, str, str]  # tenant, branch, currency


def reconcile(
    inputs: DayInputs, day: date, *, as_of: date, settle_within_days: int = 3
) -> list[DayReconciliation]:
    """The reconciliation of ``day`` for every (tenant, branch, currency) with activity."""
    return reconcile_days(inputs, [day], as_of=as_of, settle_within_days=settle_within_days)


def reconcile_days(
    inputs: DayInputs, days: Iterable[date], *, as_of: date, settle_within_days: int = 3
) -> list[DayReconciliation]:
    """:func:`reconcile` for each of ``days``, indexing the inputs once."""
    run = _Run(inputs, as_of, settle_within_days)
    return [result for day in days for result in run.day(day)]


class _Run:
    """The inputs indexed once (by reference, and by day) for any number of days."""

    def __init__(self, inputs: DayInputs, as_of: date, within: int) -> None:
        self.inputs = inputs
        self.as_of = as_of
        self.within = within
        self.on = date.min
        self.groups: dict[_GroupKey, _Totals] = defaultdict(_Totals)
        self.recorded = _unique(inputs.payments, lambda p: (p.tenant_id, p.payment_id))
        self.gateway = _unique(inputs.captures, lambda c: (c.provider, c.payment_ref))
        self.capture_by_ref = {(c.tenant_id, c.payment_ref): c for c in self.gateway}
        self.settled = _unique(inputs.settlements, lambda s: (s.provider, s.settlement_ref))
        self.settled_refs = {(s.provider, ref) for s in self.settled for ref in s.listed()}
        # The payment line of each settled payment (the first settlement's, if several).
        self.lines: dict[tuple[str, str], tuple[str, SettledItem]] = {}
        for settlement in self.settled:
            for item in sorted(settlement.items, key=repr):
                if item.kind == "payment" and item.payment_ref:
                    where = (settlement.provider, item.payment_ref)
                    self.lines.setdefault(where, (settlement.settlement_ref, item))
        self.payment_by_id = {(p.tenant_id, p.payment_id): p for p in self.recorded}
        self.refunds_of: dict[str, list[GatewayRefund]] = defaultdict(list)
        for refund in _unique(inputs.gateway_refunds, lambda g: (g.provider, g.refund_ref)):
            self.refunds_of[refund.payment_ref].append(refund)
        self.claimed = {
            (p.tenant_id, p.provider_reference)
            for p in self.recorded
            if p.mode != "cash" and p.provider_reference
        }
        self.lost = {d.dispute_ref for d in inputs.disputes if d.phase == "lost"}
        self.deposits = {(p.tenant_id, p.payment_id) for p in self.recorded if p.kind == "deposit"}
        self.capture_reasons: dict[tuple[str, str], set[str]] = defaultdict(set)
        for fact in inputs.unmatched:
            if fact.fact_event_type == "gateway.payment_captured":
                self.capture_reasons[(fact.provider, fact.payment_ref)].add(fact.reason)
        self.nets = {
            (c.provider, c.payment_ref): c.amount_minor - self.fee(c)[0] for c in self.gateway
        }
        refunds = _unique(inputs.refunds, lambda r: (r.tenant_id, r.refund_id))
        invoices = _unique(inputs.invoices, lambda i: (i.tenant_id, i.invoice_id))
        self.payments_on = _by_day(self.recorded)
        self.refunds_on = _by_day(refunds)
        self.forfeitures_on = _by_day(inputs.forfeitures)
        self.invoices_on = _by_day(invoices)
        self.captures_on = _by_day(self.gateway)
        self.unmatched_on = _by_day(inputs.unmatched)
        self.settlements_on = _by_day(self.settled)

    def day(self, day: date) -> list[DayReconciliation]:
        self.on = day
        self.groups = defaultdict(_Totals)
        self.payments()
        self.refunds_and_forfeitures()
        self.invoices()
        self.captures()
        self.unapplied()
        self.settlements()
        return [
            DayReconciliation(
                tenant_id=tenant,
                branch_id=branch,
                day=day,
                currency=currency,
                unmatched=tuple(sorted(totals.items)),
                **dict(totals.figures),
            )
            for (tenant, branch, currency), totals in sorted(self.groups.items())
        ]

    def add(self, key: _GroupKey, name: str, amount: int) -> None:
        self.groups[key].figures[name] += amount

    def flag(self, key: _GroupKey, item: UnmatchedItem) -> None:
        self.groups[key].items.append(item)

    def payments(self) -> None:
        for payment in self.payments_on.get(self.on, ()):
            key = (payment.tenant_id, payment.branch_id, payment.currency)
            self.add(key, "expected_minor", payment.amount_minor)
            if payment.kind == "deposit":
                self.add(key, "deposits_held_minor", payment.amount_minor)
            if payment.mode == "cash":
                self.add(key, "cash_minor", payment.amount_minor)
            else:
                self._match(key, payment)

    def _match(self, key: _GroupKey, payment: RecordedPayment) -> None:
        ref = payment.provider_reference
        capture = self.capture_by_ref.get((payment.tenant_id, ref)) if ref else None
        if capture is None:
            self.flag(
                key,
                UnmatchedItem(
                    "ours",
                    "no_gateway_capture",
                    payment.payment_id,
                    payment.amount_minor,
                    f"{payment.mode} via {payment.provider}, reference {ref or 'none'}",
                ),
            )
        elif (capture.amount_minor, capture.currency) != (payment.amount_minor, payment.currency):
            self.flag(
                key,
                UnmatchedItem(
                    "ours",
                    "amount_mismatch",
                    payment.payment_id,
                    payment.amount_minor - capture.amount_minor,
                    f"recorded {payment.amount_minor} {payment.currency}, captured "
                    f"{capture.amount_minor} {capture.currency} as {capture.payment_ref}",
                ),
            )

    def refunds_and_forfeitures(self) -> None:
        for refund in self.refunds_on.get(self.on, ()):
            key = (refund.tenant_id, refund.branch_id, refund.currency)
            reversal = refund.refund_id in self.lost
            self.add(key, "expected_minor", -refund.amount_minor)
            self.add(key, "reversals_minor" if reversal else "refunds_minor", refund.amount_minor)
            if (refund.tenant_id, refund.payment_id) in self.deposits:
                self.add(key, "deposits_held_minor", -refund.amount_minor)
            if not reversal:
                self._match_refund(key, refund)
        for forfeiture in self.forfeitures_on.get(self.on, ()):
            key = (forfeiture.tenant_id, forfeiture.branch_id, forfeiture.currency)
            self.add(key, "forfeitures_minor", forfeiture.amount_minor)
            self.add(key, "deposits_held_minor", -forfeiture.amount_minor)

    def _match_refund(self, key: _GroupKey, refund: RecordedRefund) -> None:
        payment = self.payment_by_id.get((refund.tenant_id, refund.payment_id))
        if payment is None or payment.mode == "cash" or not payment.provider_reference:
            return
        # Refund ids are ours per tenant: only the refunds of the same gateway payment count.
        found = [
            g
            for g in self.refunds_of.get(payment.provider_reference, [])
            if refund.refund_id in (g.refund_id, g.refund_ref)
        ]
        live = [g for g in found if g.status not in {"failed", "cancelled"}]
        if not live:
            dead = ", ".join(f"{g.refund_ref} {g.status}" for g in found)
            detail = f"refund of {payment.provider_reference}; gateway: {dead or 'none'}"
            item = UnmatchedItem(
                "ours", "no_gateway_refund", refund.refund_id, refund.amount_minor, detail
            )
            self.flag(key, item)
            return
        gateway = live[0]
        if (gateway.amount_minor, gateway.currency) != (refund.amount_minor, refund.currency):
            detail = (
                f"refunded {refund.amount_minor} {refund.currency}, gateway refund "
                f"{gateway.refund_ref} {gateway.amount_minor} {gateway.currency}"
            )
            amount = refund.amount_minor - gateway.amount_minor
            self.flag(
                key,
                UnmatchedItem("ours", "refund_amount_mismatch", refund.refund_id, amount, detail),
            )

    def invoices(self) -> None:
        for invoice in self.invoices_on.get(self.on, ()):
            key = (invoice.tenant_id, invoice.branch_id, invoice.currency)
            owed = invoice.amount_minor - invoice.credited_minor - invoice.paid_minor
            balance = max(0, owed)
            self.add(key, "outstanding_minor", balance)

    def captures(self) -> None:
        for capture in self.captures_on.get(self.on, ()):
            key = (capture.tenant_id, capture.branch_id or UNASSIGNED, capture.currency)
            fee, tax = self.fee(capture)
            net = capture.amount_minor - fee
            self.add(key, "captured_minor", capture.amount_minor)
            self.add(key, "fees_minor", fee)
            self.add(key, "tax_minor", tax)
            self._check_fee(key, capture)
            if (capture.provider, capture.payment_ref) in self.settled_refs:
                self.add(key, "settled_minor", net)
            elif (self.as_of - capture.day).days > self.within:
                detail = f"captured {capture.day.isoformat()}, unsettled after {self.within} days"
                self.flag(
                    key, UnmatchedItem("gateway", "not_settled", capture.payment_ref, net, detail)
                )
            else:
                self.add(key, "awaiting_settlement_minor", net)
            if (capture.tenant_id, capture.payment_ref) not in self.claimed:
                self.flag(key, self._not_linked(capture))

    def fee(self, capture: GatewayCapture) -> tuple[int, int]:
        """The capture's fee and tax: as it reported them, else as its line says."""
        line = self.lines.get((capture.provider, capture.payment_ref))
        if capture.fee_known or line is None:
            return capture.fee_minor, capture.tax_minor
        return line[1].fee_minor, line[1].tax_minor

    def _check_fee(self, key: _GroupKey, capture: GatewayCapture) -> None:
        line = self.lines.get((capture.provider, capture.payment_ref))
        if line is None or not capture.fee_known or line[1].fee_minor == capture.fee_minor:
            return
        settlement, item = line
        detail = (
            f"settlement {settlement} charged {item.fee_minor}, "
            f"the capture reported {capture.fee_minor}"
        )
        difference = item.fee_minor - capture.fee_minor
        self.flag(
            key, UnmatchedItem("gateway", "fee_mismatch", capture.payment_ref, difference, detail)
        )

    def _not_linked(self, capture: GatewayCapture) -> UnmatchedItem:
        reasons = self.capture_reasons.get((capture.provider, capture.payment_ref), set())
        detail = "; ".join(sorted(reasons)) or "no payment of ours references it"
        return UnmatchedItem(
            "gateway", "not_linked", capture.payment_ref, capture.amount_minor, detail
        )

    def unapplied(self) -> None:
        for fact in self.unmatched_on.get(self.on, ()):
            if fact.fact_event_type == "gateway.payment_captured":
                continue
            key = (fact.tenant_id, fact.branch_id or UNASSIGNED, fact.currency or "XXX")
            detail = f"{fact.fact_event_type}: {fact.reason}"
            self.flag(
                key,
                UnmatchedItem(
                    "gateway", "not_applied", fact.payment_ref, fact.amount_minor, detail
                ),
            )

    def settlements(self) -> None:
        nets = self.nets
        for settlement in self.settlements_on.get(self.on, ()):
            key = (settlement.tenant_id, UNASSIGNED, settlement.currency)
            ref = settlement.settlement_ref
            refs = sorted(settlement.listed())
            missing = [p for p in refs if (settlement.provider, p) not in nets]
            for payment_ref in missing:
                detail = f"listed by settlement {ref}"
                self.flag(
                    key, UnmatchedItem("gateway", "settled_not_captured", payment_ref, None, detail)
                )
            if settlement.items:
                total = sum(item.net_minor for item in settlement.items)
                what = f"nets of its {len(settlement.items)} lines"
            elif refs and not missing:
                total = sum(nets[(settlement.provider, p)] for p in refs)
                what = "nets of the payments listed"
            elif not refs:
                detail = "lists no payments: run the settlement-detail job to fetch its lines"
                self.flag(
                    key,
                    UnmatchedItem("gateway", "not_itemized", ref, settlement.amount_minor, detail),
                )
                continue
            else:
                continue
            if total != settlement.amount_minor:
                self.flag(
                    key,
                    UnmatchedItem(
                        "gateway",
                        "settlement_mismatch",
                        ref,
                        settlement.amount_minor - total,
                        f"settled {settlement.amount_minor}, {what} {total}",
                    ),
                )


def _unique(items: Iterable[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    """The first item of each key, in a fixed order whatever the input order."""
    seen: dict[Hashable, _T] = {}
    for item in sorted(items, key=repr):
        seen.setdefault(key(item), item)
    return list(seen.values())


class _Dated(Protocol):
    @property
    def day(self) -> date: ...


_D = TypeVar("_D", bound=_Dated)


def _by_day(items: Iterable[_D]) -> dict[date, list[_D]]:
    found: dict[date, list[_D]] = defaultdict(list)
    for item in items:
        found[item.day].append(item)
    return found
