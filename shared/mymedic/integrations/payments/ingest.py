"""Gateway facts in, events out: each provider event exactly once, nothing lost.

Per fact, one ``append_streams`` transaction in the payment's tenant writes:

- the fact on ``gateway:{provider}:{payment_ref}`` (``settlement:{provider}:{ref}``
  for settlements), with the links and the streams it was applied to;
- when it names an appointment and/or invoice: ``appointment.payment_taken`` /
  ``appointment.payment_refunded`` and ``payment.captured`` / ``refund.issued``,
  decided by the aggregates' own rules (``decide``), so a capture above the
  outstanding or a refund above the refundable is refused there;
- ``payment.unmatched`` for everything that could not be applied (no link, an unknown
  appointment, a rule refused it): recorded for review, never dropped.

Event ids are UUID v5 of (tenant, provider, provider event id, part), so a retried or
duplicated delivery finds its fact stored and writes nothing. The payment's tenant
comes from our metadata; a fact without it (a Stripe refund or dispute) finds it in
``gateway_index:{provider}:{payment_ref}`` of the payments tenant, written when a
linked fact of the payment was first seen; failing that, the fact is recorded under
the payments tenant as unmatched.

A settlement is recorded under the payments tenant (the gateway account's) and split
per clinic by the payments it pays out (:mod:`settlement_split`); a payment's first
linked fact splits again the settlements that were waiting to learn its tenant.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from mymedic.app.commands import utc_now
from mymedic.domain import commands as c
from mymedic.domain import events as e
from mymedic.domain.aggregates import (
    BillingPolicy,
    Context,
    InvoiceState,
    NewEvent,
    State,
    decide,
    evolve,
    fold,
)
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.domain.errors import DomainError
from mymedic.domain.types import PaymentKind, PaymentMode
from mymedic.integrations.payments.event_ids import payment_event_id
from mymedic.integrations.payments.facts import GatewayFact, PaymentLink
from mymedic.integrations.payments.settlement_split import awaiting, split_settlement
from mymedic.integrations.stream_plan import StreamPlan
from mymedic.ports import ConcurrencyConflict, EventIdReused, EventStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class IngestOutcome:
    recorded: int = 0  # facts newly recorded
    duplicates: int = 0  # facts stored already (a redelivery)
    applied: int = 0  # appointment or invoice events appended
    unmatched: int = 0  # facts (or parts of them) flagged for review

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class PaymentIngestor:
    def __init__(
        self,
        store: EventStore,
        *,
        payments_tenant: str,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        self.payments_tenant = payments_tenant
        self._clock = clock
        self._after_commit = after_commit

    def ingest(self, facts: Sequence[GatewayFact]) -> IngestOutcome:
        outcome = IngestOutcome()
        for index, fact in enumerate(facts):
            self._ingest_one(fact, index, outcome)
        if outcome.recorded and self._after_commit is not None:
            self._after_commit()
        return outcome

    def _ingest_one(self, fact: GatewayFact, index: int, outcome: IngestOutcome) -> None:
        tenant = fact.link.tenant_id or self._indexed_tenant(fact) or self.payments_tenant
        for attempt in range(1, MAX_ATTEMPTS + 1):
            plan = StreamPlan(self.store, tenant)
            planned = _FactPlan(self, plan, fact, index).plan()
            if planned is None:
                outcome.duplicates += 1
                self._after_recorded(fact, tenant)  # finish what a killed delivery began
                return
            try:
                results = self.store.append_streams(tenant, plan.appends())
            except (ConcurrencyConflict, EventIdReused) as exc:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.info("payment fact lost a race (%s); planning it again", type(exc).__name__)
                continue
            if all(result.duplicate for result in results):
                outcome.duplicates += 1
            else:
                outcome.recorded += 1
                outcome.applied += planned.applied
                outcome.unmatched += planned.unmatched
            self._after_recorded(fact, tenant)
            return

    def _after_recorded(self, fact: GatewayFact, tenant: str) -> None:
        """Index the payment's tenant, and split the settlements that concern it. Both
        are idempotent, so a redelivery finishes what a killed delivery began."""
        if fact.kind == "settlement" and fact.ref:
            split_settlement(self.store, tenant, fact.provider, fact.ref, clock=self._clock)
        if fact.link.tenant_id and fact.payment_ref:
            self._index(fact, fact.link.tenant_id)

    # --- the tenant-free index of gateway payments -----------------------------------

    def _index_stream(self, fact: GatewayFact) -> str:
        return e.stream_id(e.GatewayPaymentIndexed.category, f"{fact.provider}:{fact.payment_ref}")

    def _indexed_tenant(self, fact: GatewayFact) -> str | None:
        if fact.payment_ref is None:
            return None
        for envelope in self.store.read_stream(self.payments_tenant, self._index_stream(fact)):
            data = envelope.data()
            if isinstance(data, e.GatewayPaymentIndexed):
                return data.tenant_id
        return None

    def _index(self, fact: GatewayFact, tenant_id: str) -> None:
        if fact.payment_ref is None:
            return
        if self._indexed_tenant(fact) is None:
            self._write_index(fact, tenant_id)
        # Settlements that paid this payment out before we knew its tenant.
        for settlement_ref in awaiting(
            self.store, self.payments_tenant, fact.provider, fact.payment_ref
        ):
            split_settlement(
                self.store, self.payments_tenant, fact.provider, settlement_ref, clock=self._clock
            )

    def _write_index(self, fact: GatewayFact, tenant_id: str) -> None:
        assert fact.payment_ref is not None  # noqa: S101 - checked by the caller
        payload = e.GatewayPaymentIndexed(
            provider=fact.provider, payment_ref=fact.payment_ref, tenant_id=tenant_id
        )
        now = self._clock()
        envelope = build_envelope(
            payload,
            metadata=self.metadata(fact, self.payments_tenant),
            branch_id=None,
            stream_version=1,
            occurred_at=fact.occurred_at,
            recorded_at=now,
            event_id=payment_event_id(
                self.payments_tenant, fact.provider, fact.payment_ref, "index"
            ),
        )
        with contextlib.suppress(ConcurrencyConflict, EventIdReused):  # a concurrent delivery
            self.store.append(self.payments_tenant, payload.stream_id(), 0, [envelope])

    def metadata(self, fact: GatewayFact, tenant_id: str) -> Metadata:
        return Metadata(
            tenant_id=tenant_id,
            actor=f"integration:{fact.provider}",
            source=f"webhook:{fact.provider}",
            correlation_id=fact.provider_event_id,
        )

    def now(self) -> datetime:
        return self._clock()


@dataclass(frozen=True)
class _Planned:
    applied: int
    unmatched: int


class _FactPlan:
    """The events of one fact in one tenant."""

    def __init__(
        self, ingestor: PaymentIngestor, plan: StreamPlan, fact: GatewayFact, index: int
    ) -> None:
        self.ingestor = ingestor
        self.appends = plan
        self.fact = fact
        self.index = index
        self.tenant = plan.tenant_id
        self.metadata = ingestor.metadata(fact, plan.tenant_id)
        self.recorded_at = ingestor.now()
        self.reviews: list[tuple[str, str | None]] = []  # (reason, target stream)
        self.applied_to: list[str] = []

    def event_id(self, part: str) -> str:
        return payment_event_id(
            self.tenant, self.fact.provider, self.fact.provider_event_id, f"{self.index}:{part}"
        )

    def plan(self) -> _Planned | None:
        fact = self.fact
        if fact.kind == "settlement":
            return self._settlement()
        assert fact.payment_ref is not None  # noqa: S101 - every other kind names a payment
        gateway = e.stream_id("gateway", f"{fact.provider}:{fact.payment_ref}")
        history = self.appends.read(gateway)
        fact_id = self.event_id("fact")
        if any(envelope.event_id == fact_id for envelope in history):
            return None
        link = fact.link.merged(_recorded_link(history))
        if fact.link.tenant_id is None and self.tenant == self.ingestor.payments_tenant:
            if link.tenant_id is None:
                self.reviews.append((f"no {_key('tenant')} in the payment's metadata", None))
        elif link.tenant_id is not None and link.tenant_id != self.tenant:
            self.reviews.append(("the metadata names another tenant than the index", None))
        if link.invalid:
            self.reviews.append((f"unusable link keys: {', '.join(link.invalid)}", None))
        if not self.reviews:
            self._apply(link, history)
        payload = self._fact_payload(link)
        self._add(payload, fact_id, link.branch_id)
        for number, (reason, target) in enumerate(self.reviews, start=1):
            unmatched = e.PaymentUnmatched(
                **self._link_fields(link),
                fact_event_type=payload.event_type,
                reason=reason[:500],
                target_stream=target,
                amount_minor=fact.amount_minor,
                currency=fact.currency,
            )
            self._add(unmatched, self.event_id(f"unmatched:{number}"), link.branch_id)
        return _Planned(applied=len(self.applied_to), unmatched=len(self.reviews))

    # --- applying the fact to the appointment and invoice ------------------------------

    def _apply(self, link: PaymentLink, history: list[EventEnvelope]) -> None:
        fact = self.fact
        reversal = (fact.kind == "refund" and fact.status != "failed") or (
            fact.kind == "dispute" and fact.status == "lost"
        )
        if fact.kind == "refund" and fact.status == "failed" and _applied(history, fact.ref):
            self.reviews.append(("the refund failed after it was applied", None))
            return
        if fact.kind not in {"captured"} and not reversal:
            return  # failures, open or won disputes: facts only
        if reversal and _applied(history, fact.ref):
            return  # this refund was applied by an earlier event (refund.created...)
        if link.appointment_id is None and link.invoice_id is None:
            self.reviews.append(
                (f"neither {_key('appointment')} nor {_key('invoice')} in the metadata", None)
            )
            return
        # A refund goes where its payment went, whatever was billed since (a bill
        # assigned to the visit after a payment on the visit itself).
        paid_into = _paid_into(history) if reversal else None
        if paid_into is not None:
            category, _, entity = paid_into.partition(":")
            self._decide(category, entity, link, reversal, category)
            return
        # One rule, whatever the metadata names: a payment (and its refund) is applied
        # once, to the invoice when it names one (the invoice knows its appointment),
        # else to the appointment, or to the visit's bill when an integration billed it.
        if link.invoice_id is not None:
            self._decide("invoice", link.invoice_id, link, reversal, "invoice")
            return
        assert link.appointment_id is not None  # noqa: S101 - checked above
        bill = self._bill(link.appointment_id)
        if bill is None:
            self._decide("appointment", link.appointment_id, link, reversal, "appointment")
            return
        # The visit is billed by an integration's invoice (the CRM's, Zoho Books'): the
        # payment goes there, never also onto the visit; unless the visit holds it
        # already (a deposit taken before the bill).
        visit = self.appends.read(e.stream_id("appointment", link.appointment_id))
        if not _recorded_already(visit, link, self.fact, reversal):
            self._decide("invoice", bill, link, reversal, "invoice")

    def _bill(self, appointment_id: str) -> str | None:
        """The invoice an integration assigned as the visit's bill, if any."""
        history = self.appends.read(e.stream_id(e.BillAssigned.category, appointment_id))
        first = next((ev.data() for ev in history), None)
        return first.invoice_id if isinstance(first, e.BillAssigned) else None

    def _decide(
        self, category: str, entity: str, link: PaymentLink, reversal: bool, part: str
    ) -> None:
        stream = e.stream_id(category, entity)
        history = self.appends.read(stream)
        if not history:
            self.reviews.append((f"{category} {entity} does not exist", stream))
            return
        branch = link.branch_id or history[0].branch_id
        if branch is None or branch == "*":
            self.reviews.append((f"{category} {entity} has no branch", stream))
            return
        if _recorded_already(history, link, self.fact, reversal):
            return  # we recorded it first (console, or our refund request): matched
        fields = self._command_fields(link, branch, reversal)
        command: c.Command
        if category == "appointment":
            command = (
                c.RefundAppointmentPayment(appointment_id=entity, **fields)
                if reversal
                else c.TakePayment(appointment_id=entity, kind=link.kind, **fields)
            )
        else:
            command = (
                c.RefundPayment(invoice_id=entity, **fields)
                if reversal
                else c.CapturePayment(invoice_id=entity, **fields)
            )
        try:
            state = fold(envelope.data() for envelope in history)
            new_events = decide(command, state, Context(now=self.fact.occurred_at))
            if isinstance(command, c.RefundPayment) and self._refunds_credit():
                new_events += self._credit(command, evolve(state, new_events[0].payload))
        except (DomainError, ValueError, KeyError) as exc:
            reason = exc.message if isinstance(exc, DomainError) else type(exc).__name__
            self.reviews.append((f"{command.name} refused: {reason}", stream))
            return
        for number, new in enumerate(new_events):
            event_id = self.event_id(part if number == 0 else f"{part}:{number}")
            self._add(new.payload, event_id, branch, new.personal, new.subject_id)
        self.applied_to.append(stream)

    def _refunds_credit(self) -> bool:
        """The tenant's billing policy: does a gateway refund credit the invoice too?"""
        history = self.appends.read(e.stream_id("policy", e.BILLING_POLICY))
        policy = fold(envelope.data() for envelope in history)
        return isinstance(policy, BillingPolicy) and policy.refunds_credit_invoices

    def _credit(self, refund: c.RefundPayment, state: State | None) -> list[NewEvent]:
        """The credit note a refund carries under the billing policy: the refunded
        amount is no longer owed (never more than the invoice has left to credit)."""
        if not isinstance(state, InvoiceState):
            return []
        creditable = min(refund.amount_minor, state.amount_minor - state.credited_minor)
        if creditable <= 0:
            return []
        command = c.IssueCreditNote(
            tenant_id=refund.tenant_id,
            branch_id=refund.branch_id,
            invoice_id=refund.invoice_id,
            credit_note_id=refund.refund_id,
            amount_minor=creditable,
            currency=refund.currency,
            reason=f"{self.fact.provider} refund",
        )
        [credit] = decide(command, state, Context(now=self.fact.occurred_at))
        payload = credit.payload.model_copy(
            update={"source": "refund", "refund_id": refund.refund_id}
        )
        return [replace(credit, payload=payload)]

    def _command_fields(self, link: PaymentLink, branch: str, reversal: bool) -> dict[str, Any]:
        fact = self.fact
        fields: dict[str, Any] = {
            "tenant_id": self.tenant,
            "branch_id": branch,
            "payment_id": link.payment_id or fact.payment_ref,
            "amount_minor": fact.amount_minor,
            "currency": fact.currency,
            "occurred_at": fact.occurred_at,
        }
        if reversal:
            reason = "chargeback" if fact.kind == "dispute" else "refund"
            refund_id = link.refund_id if fact.kind == "refund" and link.refund_id else fact.ref
            fields.update(refund_id=refund_id, reason=f"{fact.provider} {reason}")
        else:
            mode = PaymentMode.UPI if fact.method == "upi" else PaymentMode.CARD
            fields.update(mode=mode, provider=fact.provider, provider_reference=fact.payment_ref)
        return fields

    # --- the fact itself -----------------------------------------------------------------

    def _link_fields(self, link: PaymentLink) -> dict[str, Any]:
        fact = self.fact
        return {
            "provider": fact.provider,
            "payment_ref": fact.payment_ref,
            "provider_event_id": fact.provider_event_id,
            "branch_id": link.branch_id,
            "appointment_id": link.appointment_id,
            "invoice_id": link.invoice_id,
            "payment_id": link.payment_id or fact.payment_ref,
        }

    def _fact_payload(self, link: PaymentLink) -> e.EventPayload:
        fact = self.fact
        common = {
            **self._link_fields(link),
            "applied_to": list(self.applied_to),
            "amount_minor": fact.amount_minor,
            "currency": fact.currency,
        }
        match fact.kind:
            case "captured":
                return e.GatewayPaymentCaptured(
                    **common,
                    kind=link.kind,
                    fee_minor=fact.fee_minor,
                    tax_minor=fact.tax_minor,
                    method=fact.method,
                )
            case "failed":
                return e.GatewayPaymentFailed(
                    **common, failure_code=fact.detail, method=fact.method
                )
            case "refund":
                return e.GatewayRefundRecorded(
                    **common, refund_ref=fact.ref, status=fact.status, refund_id=link.refund_id
                )
            case _:
                return e.GatewayDisputeRecorded(
                    **common, dispute_ref=fact.ref, phase=fact.status, reason=fact.detail
                )

    def _settlement(self) -> _Planned | None:
        fact = self.fact
        payload = e.SettlementRecorded(
            provider=fact.provider,
            settlement_ref=fact.ref,
            provider_event_id=fact.provider_event_id,
            status=fact.status or "processed",
            amount_minor=fact.amount_minor,
            currency=fact.currency,
            fee_minor=fact.fee_minor,
            tax_minor=fact.tax_minor,
            bank_reference=fact.bank_reference,
            settled_at=fact.settled_at,
            payment_refs=list(fact.payment_refs),
        )
        fact_id = self.event_id("fact")
        if any(env.event_id == fact_id for env in self.appends.read(payload.stream_id())):
            return None
        self._add(payload, fact_id, None)
        return _Planned(applied=0, unmatched=0)

    def _add(
        self,
        payload: e.EventPayload,
        event_id: str,
        branch: str | None,
        personal: BaseModel | None = None,
        subject_id: str | None = None,
    ) -> None:
        stream = payload.stream_id()
        self.appends.add(
            build_envelope(
                payload,
                metadata=self.metadata,
                branch_id=branch,
                stream_version=self.appends.next_version(stream),
                occurred_at=self.fact.occurred_at,
                recorded_at=self.recorded_at,
                event_id=event_id,
                personal=personal,
                subject_id=subject_id,
            )
        )


def _key(name: str) -> str:
    return f"mymedic_{name}"


def _recorded_link(history: list[EventEnvelope]) -> PaymentLink:
    """The links an earlier fact of this payment recorded (the first that had any)."""
    for envelope in history:
        data = envelope.data()
        if isinstance(data, e.GatewayPaymentCaptured | e.GatewayPaymentFailed) and (
            data.appointment_id or data.invoice_id
        ):
            return PaymentLink(
                tenant_id=envelope.tenant_id,
                branch_id=data.branch_id,
                appointment_id=data.appointment_id,
                invoice_id=data.invoice_id,
                payment_id=data.payment_id,
                kind=data.kind
                if isinstance(data, e.GatewayPaymentCaptured)
                else PaymentKind.PAYMENT,
            )
    return PaymentLink()


def _paid_into(history: list[EventEnvelope]) -> str | None:
    """The stream (``appointment:{id}`` or ``invoice:{id}``) the payment's capture was
    applied to, if an earlier fact of it was."""
    for envelope in history:
        data = envelope.data()
        if isinstance(data, e.GatewayPaymentCaptured) and data.applied_to:
            return data.applied_to[0]
    return None


def _applied(history: list[EventEnvelope], ref: str | None) -> bool:
    """Whether a refund or dispute with this id was applied by an earlier fact."""
    for envelope in history:
        data = envelope.data()
        if isinstance(data, e.GatewayRefundRecorded) and data.refund_ref == ref and data.applied_to:
            return True
        if (
            isinstance(data, e.GatewayDisputeRecorded)
            and data.dispute_ref == ref
            and data.applied_to
        ):
            return True
    return False


def _recorded_already(
    history: list[EventEnvelope], link: PaymentLink, fact: GatewayFact, reversal: bool
) -> bool:
    """Whether the appointment or invoice holds this money already, recorded by us
    before the gateway told us: a payment keyed at the console with the gateway's
    reference (same payment id and amount), a payment another source recorded with the
    gateway's payment id as its reference (the CRM's payment record, say), or a refund
    we asked the gateway for (our refund id in its metadata). A payment id recorded with
    another amount is not a match: deciding it again refuses it, which flags it for
    review."""
    payment_id = link.payment_id or fact.payment_ref
    for envelope in history:
        data = envelope.data()
        if reversal:
            if (
                fact.kind == "refund"
                and link.refund_id is not None
                and isinstance(data, e.AppointmentPaymentRefunded | e.RefundIssued)
                and data.refund_id == link.refund_id
            ):
                return True
        elif isinstance(data, e.AppointmentPaymentTaken | e.PaymentCaptured) and (
            (data.amount_minor, data.currency) == (fact.amount_minor, fact.currency)
        ):
            if data.payment_id == payment_id and data.provider_reference in (
                None,
                fact.payment_ref,
            ):
                return True
            if data.provider_reference is not None and data.provider_reference == fact.payment_ref:
                return True  # recorded by another source (the CRM) with the gateway's id
    return False
