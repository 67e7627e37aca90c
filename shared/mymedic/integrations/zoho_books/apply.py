"""One Books invoice, customer payment or credit note applied to our invoices through
``decide``, planned as the events of one transaction.

Every effect has a deterministic event id (UUID v5 of tenant, Books record and part),
so a record read again (the watermark's overlap, a re-run) plans nothing it planned
before. What cannot be applied (no appointment link, an unknown appointment, a void
invoice, a payment above the outstanding...) is recorded for review as
``integration.record_quarantined`` on ``zoho:{module}:{record id}``, once per record
version and reason, with the raw record in the personal part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from mymedic.domain import commands as c
from mymedic.domain import events as e
from mymedic.domain.aggregates import AppointmentState, Context, InvoiceState, decide, fold
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.domain.errors import DomainError
from mymedic.integrations.stream_plan import StreamPlan
from mymedic.integrations.zoho.ingest import describe_error
from mymedic.integrations.zoho.mapping import TenantMapping
from mymedic.integrations.zoho.records import ZohoRecord
from mymedic.integrations.zoho.streams import version_key, zoho_event_id
from mymedic.integrations.zoho_books.config import BooksMapping
from mymedic.integrations.zoho_books.mapping import (
    Unmappable,
    capture_payment,
    issue_credit_note,
    issue_invoice,
    read_credit_note,
    read_invoice,
    read_payment,
)
from mymedic.ports import EventStore

ACTOR = "integration:zoho_books"
SOURCE = "zoho:books"
MAX_REASON = 500


@dataclass
class Planned:
    applied: int = 0  # events appended to invoice streams
    reviews: int = 0  # review items recorded


class ItemPlan:
    """The events one record version leads to, planned against streams read once."""

    def __init__(
        self,
        store: EventStore,
        mapping: TenantMapping,
        books: BooksMapping,
        record: ZohoRecord,
        recorded_at: datetime,
    ) -> None:
        self.mapping = mapping
        self.books = books
        self.record = record
        self.tenant = mapping.tenant_id
        self.streams = StreamPlan(store, mapping.tenant_id)
        self.recorded_at = recorded_at
        self.planned = Planned()
        self.metadata = Metadata(
            tenant_id=self.tenant,
            actor=ACTOR,
            source=SOURCE,
            correlation_id=f"zoho-books:{record.module}:{record.record_id}",
        )

    def effect_id(self, part: str) -> str:
        """An effect happens once per record, whichever version brings it."""
        record = self.record
        return zoho_event_id(self.tenant, record.module, record.record_id, "books", part)

    def apply(
        self,
        command: c.Command,
        history: list[EventEnvelope],
        event_id: str,
        branch: str,
        part: str,
    ) -> bool:
        """Decide and plan the command's event; False (and a review) when refused."""
        try:
            state = fold(envelope.data() for envelope in history)
            new_events = decide(command, state, Context(now=command.occurred_at or self.now))
        except (DomainError, ValueError) as exc:
            reason, field = describe_error(exc)
            self.review(f"{command.name} refused: {reason}", field, part=part)
            return False
        [new] = new_events  # an invoice command decides exactly one event
        payload = new.payload
        if isinstance(payload, e.CreditNoteIssued):
            payload = payload.model_copy(update={"source": "zoho_books"})
        personal: dict[str, Any] = {}
        if new.personal is not None:
            personal = {"personal": new.personal, "subject_id": new.subject_id}
        self._add(payload, event_id, branch, command.occurred_at or self.now, **personal)
        self.planned.applied += 1
        return True

    def assign_bill(self, appointment_id: str, invoice_id: str, branch: str) -> None:
        """The visit's bill, when it has none yet: a gateway payment naming only the
        appointment then goes to this invoice (see ``e.BillAssigned``)."""
        stream = e.stream_id(e.BillAssigned.category, appointment_id)
        if self.streams.read(stream) or self.streams.pending.get(stream):
            return
        assigned = e.BillAssigned(
            appointment_id=appointment_id, invoice_id=invoice_id, source="books"
        )
        self._add(assigned, self.effect_id("bill"), branch, self.now)

    def review(self, reason: str, field: str | None = None, *, part: str = "record") -> None:
        record = self.record
        event_id = zoho_event_id(
            self.tenant,
            record.module,
            record.record_id,
            version_key(record.modified_time),
            f"review:{part}",
        )
        payload = e.RecordQuarantined(
            module=record.module,
            record_id=record.record_id,
            modified_time=record.modified_time,
            reason=reason[:MAX_REASON],
            field=field[:200] if field else None,
            mapping_version=self.mapping.version,
        )
        stream = payload.stream_id()
        if any(envelope.event_id == event_id for envelope in self.streams.read(stream)):
            return
        raw = orjson.loads(orjson.dumps(record.fields, default=str))
        self._add(
            payload,
            event_id,
            "*",
            record.modified_time,
            personal=e.RawRecordPersonalData(fields=raw),
            subject_id=stream,
        )
        self.planned.reviews += 1

    @property
    def now(self) -> datetime:
        return self.recorded_at

    def _add(
        self,
        payload: e.EventPayload,
        event_id: str,
        branch: str,
        occurred_at: datetime,
        **personal: Any,
    ) -> None:
        stream = payload.stream_id()
        self.streams.add(
            build_envelope(
                payload,
                metadata=self.metadata,
                branch_id=branch,
                stream_version=self.streams.next_version(stream),
                occurred_at=occurred_at,
                recorded_at=self.recorded_at,
                event_id=event_id,
                **personal,
            )
        )


def plan_invoice(item: ItemPlan) -> None:
    try:
        invoice = read_invoice(item.record, item.books, item.mapping.zone)
    except Unmappable as exc:
        item.review(exc.reason, exc.field)
        return
    stream = e.stream_id("invoice", invoice.invoice_id)
    history = item.streams.read(stream)
    issued = item.effect_id("issued")
    if history:
        state = fold(envelope.data() for envelope in history)
        if history[0].event_id != issued:
            item.review(f"invoice {invoice.invoice_id} exists already, not issued from Books")
        elif invoice.void:
            item.review("voided in Books after it was issued here", "status")
        elif isinstance(state, InvoiceState) and (state.amount_minor, state.currency) != (
            invoice.total_minor,
            invoice.currency,
        ):
            item.review("the total changed in Books after it was issued here", "total")
        return
    if invoice.status == "draft":
        return  # issued once it is sent (which modifies it)
    if invoice.void:
        item.review("void in Books: not issued", "status")
        return
    field = item.books.appointment_field
    if invoice.appointment_id is None:
        item.review(f"no appointment link in {field}", field)
        return
    appointment = item.streams.read(e.stream_id("appointment", invoice.appointment_id))
    state = fold(envelope.data() for envelope in appointment) if appointment else None
    if not isinstance(state, AppointmentState):
        item.review(f"{field} names no appointment of this tenant", field)
        return
    branch = appointment[0].branch_id
    if branch is None or branch == "*" or invoice.branch_id not in (None, branch):
        item.review("the branch field names another branch than the appointment's", "branch")
        return
    try:
        command = issue_invoice(
            invoice,
            tenant_id=item.tenant,
            branch_id=branch,
            patient_id=state.patient_id,
            payer_type=item.books.payer_type,
        )
    except ValidationError as exc:
        reason, where = describe_error(exc)
        item.review(f"issue_invoice: {reason}", where)
        return
    if item.apply(command, history, issued, branch, "invoice"):
        item.assign_bill(invoice.appointment_id, invoice.invoice_id, branch)


def plan_payment(item: ItemPlan) -> None:
    try:
        payment = read_payment(item.record, item.mapping.zone)
    except Unmappable as exc:
        item.review(exc.reason, exc.field)
        return
    if not payment.applications:
        return  # a customer credit until it is applied to an invoice
    for application in payment.applications:
        target = application.invoice_id
        history = item.streams.planned(e.stream_id("invoice", target))
        captured = item.effect_id(f"captured:{target}")
        done = next((envelope for envelope in history if envelope.event_id == captured), None)
        if done is not None:
            if done.payload.get("amount_minor") != application.amount_minor:
                item.review(
                    f"the amount applied to {target} changed in Books after it was captured",
                    "amount_applied",
                    part=target,
                )
            continue
        branch = _invoice_branch(item, history, target, target)
        if branch is None:
            continue
        try:
            command = capture_payment(payment, application, tenant_id=item.tenant, branch_id=branch)
        except ValidationError as exc:
            reason, where = describe_error(exc)
            item.review(f"capture_payment: {reason}", where, part=target)
            continue
        if _held_already(history, command):
            continue  # a gateway told us first: the reference is its payment id
        item.apply(command, history, captured, branch, target)


def plan_credit_note(item: ItemPlan) -> None:
    """Each application of a Books credit note to an invoice is a credit note of ours
    on that invoice, once. A draft credits nothing yet; a void note credits nothing,
    and one voided after it was credited here is recorded for review."""
    try:
        note = read_credit_note(item.record, item.mapping.zone)
    except Unmappable as exc:
        item.review(exc.reason, exc.field)
        return
    if note.status == "draft":
        return
    for credit in note.credits:
        target = credit.invoice_id
        part = credit.credit_note_id
        # Planned too: a note applied to one invoice in two goes.
        history = item.streams.planned(e.stream_id("invoice", target))
        credited = item.effect_id(f"credited:{part}")
        done = next((envelope for envelope in history if envelope.event_id == credited), None)
        if done is not None:
            if note.void:
                item.review("voided in Books after it was credited here", "status", part=part)
            elif done.payload.get("amount_minor") != credit.amount_minor:
                item.review(
                    f"the amount credited to {target} changed in Books after it was recorded",
                    "credited_amount",
                    part=part,
                )
            continue
        if note.void:
            continue
        branch = _invoice_branch(item, history, target, part)
        if branch is None:
            continue
        try:
            command = issue_credit_note(note, credit, tenant_id=item.tenant, branch_id=branch)
        except ValidationError as exc:
            reason, where = describe_error(exc)
            item.review(f"issue_credit_note: {reason}", where, part=part)
            continue
        item.apply(command, history, credited, branch, part)


def _invoice_branch(
    item: ItemPlan, history: list[EventEnvelope], invoice_id: str, part: str
) -> str | None:
    """The branch of an invoice issued here; None (and a review) when there is none."""
    if not history:
        item.review(f"invoice {invoice_id} was not issued here", "invoice_id", part=part)
        return None
    branch = history[0].branch_id
    if branch is None or branch == "*":
        item.review(f"invoice {invoice_id} has no branch", part=part)
        return None
    return branch


def _held_already(history: list[EventEnvelope], command: c.CapturePayment) -> bool:
    """The invoice holds this money already, recorded with Books' reference (the
    gateway's payment id) by the gateway's webhook: the same payment, matched."""
    reference = command.provider_reference
    return reference is not None and any(
        isinstance(data := envelope.data(), e.PaymentCaptured)
        and data.provider_reference == reference
        and (data.amount_minor, data.currency) == (command.amount_minor, command.currency)
        for envelope in history
    )
