"""Aggregates as pure functions: fold past events into state, decide new events.

``decide(command, state, context)`` enforces the business rules of one aggregate. It
sees that aggregate's own history and, in ``context``, the reference data the rules
need (the branch, clinician, room, price list and cancellation policy, folded from
their own streams) and the moment the command is made; it does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from mymedic.domain import commands as c
from mymedic.domain import events as e
from mymedic.domain.alert_rule_state import AlertRuleState, evolve_alert_rule
from mymedic.domain.directory import (
    NO_FORFEITURE,
    BranchState,
    CancellationPolicy,
    ClinicianState,
    PriceListState,
    ProcedureState,
    Reference,
    RoomState,
    evolve_reference,
    require_branch,
    require_clinician,
    require_future,
    require_price,
    require_room,
    require_within_working_hours,
)
from mymedic.domain.errors import (
    DomainError,
    StreamAlreadyExists,
    StreamNotFound,
    UnknownReference,
)
from mymedic.domain.schedule import (
    BLOCK_PREFIX,
    ScheduleState,
    Slot,
    evolve_schedule,
    split_by_day,
)
from mymedic.domain.snapshot_schedule import SnapshotScheduleState, evolve_snapshot_schedule
from mymedic.domain.types import AppointmentStatus, PaymentKind


@dataclass(frozen=True)
class NewEvent:
    payload: e.EventPayload
    personal: BaseModel | None = None
    subject_id: str | None = None
    # When it happened, if not when the command was made (an imported record's history:
    # a booking at the record's creation, its cancellation at its last change).
    occurred_at: datetime | None = None
    # The branch it concerns, if not the command's (a payment of an appointment's branch).
    branch_id: str | None = None


@dataclass(frozen=True)
class Payment:
    kind: PaymentKind
    amount_minor: int
    refunded_minor: int = 0
    forfeited_minor: int = 0  # of a deposit, kept under the cancellation policy

    @property
    def refundable_minor(self) -> int:
        return self.amount_minor - self.refunded_minor - self.forfeited_minor


@dataclass(frozen=True)
class AppointmentState:
    status: AppointmentStatus
    patient_id: str
    clinician_id: str
    room_id: str
    modality: str
    procedure_code: str
    start_at: datetime
    duration_minutes: int
    price_minor: int
    currency: str
    payments: dict[str, Payment] = field(default_factory=dict)
    forfeited_minor: int = 0
    follow_ups: frozenset[str] = frozenset()

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.duration_minutes)

    @property
    def paid_minor(self) -> int:
        return sum(p.amount_minor for p in self.payments.values())

    @property
    def refunded_minor(self) -> int:
        return sum(p.refunded_minor for p in self.payments.values())

    @property
    def net_paid_minor(self) -> int:
        """Paid, less refunded: money the clinic holds for this appointment."""
        return self.paid_minor - self.refunded_minor

    @property
    def refundable_minor(self) -> int:
        """Paid, less refunded, less forfeited: what may still go back."""
        return self.net_paid_minor - self.forfeited_minor

    @property
    def deposits_held_minor(self) -> int:
        return sum(
            p.refundable_minor for p in self.payments.values() if p.kind is PaymentKind.DEPOSIT
        )


@dataclass(frozen=True)
class InvoiceState:
    currency: str
    amount_minor: int
    payments: dict[str, int] = field(default_factory=dict)
    refunds: dict[str, int] = field(default_factory=dict)  # refunded per payment id
    credits: dict[str, int] = field(default_factory=dict)  # per credit note
    patient_id: str | None = None

    @property
    def paid_minor(self) -> int:
        return sum(self.payments.values()) - sum(self.refunds.values())

    @property
    def credited_minor(self) -> int:
        return sum(self.credits.values())

    @property
    def owed_minor(self) -> int:
        """What the payer still owes: billed, less credited, less paid net of refunds
        (a refund without a credit note is owed again)."""
        return self.amount_minor - self.credited_minor - self.paid_minor


@dataclass(frozen=True)
class Created:
    """State of create-only aggregates (patient, referral, NPS, marketing touch)."""


@dataclass(frozen=True)
class BillingPolicy:
    """The tenant's billing policy (see ``e.BillingPolicySet``)."""

    refunds_credit_invoices: bool = False


@dataclass(frozen=True)
class BillState:
    """The invoice an integration assigned as a visit's bill (the first one stays)."""

    invoice_id: str


@dataclass(frozen=True)
class ComplaintState:
    patient_id: str | None
    appointment_id: str | None
    complaint_category: str
    status: str = "open"


State = (
    AppointmentState
    | InvoiceState
    | ScheduleState
    | Created
    | BillingPolicy
    | BillState
    | ComplaintState
    | Reference
    | SnapshotScheduleState
    | AlertRuleState
)


@dataclass(frozen=True)
class Context:
    """What a decision may look at beyond its own aggregate."""

    now: datetime  # when the command was made: its occurred_at, or its arrival
    branch: BranchState | None = None
    clinician: ClinicianState | None = None
    room: RoomState | None = None
    prices: PriceListState | None = None
    policy: CancellationPolicy = NO_FORFEITURE
    follow_up_origin: AppointmentState | None = None  # the appointment a follow-up came from
    procedure: ProcedureState | None = None  # the tenant's catalogue entry of the procedure


@dataclass(frozen=True)
class References:
    """The directory streams a command's decision needs (names of entities)."""

    branch: str | None = None
    clinician: str | None = None
    room: str | None = None
    prices: str | None = None
    policy: bool = False
    follow_up_origin: str | None = None
    procedure: str | None = None


def references_needed(command: c.Command, state: State | None) -> References:
    match command:
        case c.BookAppointment():
            return References(
                command.branch_id,
                command.clinician_id,
                command.room_id,
                command.branch_id,
                follow_up_origin=command.follow_up_appointment_id,
                procedure=command.procedure_code,
            )
        case c.RescheduleAppointment() if isinstance(state, AppointmentState):
            return References(
                command.branch_id,
                command.clinician_id or state.clinician_id,
                command.room_id or state.room_id,
            )
        case c.CancelAppointment() | c.MarkNoShow():
            return References(policy=True)
        case c.BlockClinicianTime() | c.UnblockClinicianTime() | c.UpdatePriceList():
            return References(command.branch_id)
        case c.RegisterClinician() | c.RegisterRoom():
            return References(command.branch_id)
    return References()


def evolve(state: State | None, event: e.EventPayload) -> State:
    match event:
        case e.AppointmentBooked():
            return AppointmentState(
                status=AppointmentStatus.BOOKED,
                patient_id=event.patient_id,
                clinician_id=event.clinician_id,
                room_id=event.room_id,
                modality=event.modality,
                procedure_code=event.procedure_code,
                start_at=event.start_at,
                duration_minutes=event.duration_minutes,
                price_minor=event.price_minor,
                currency=event.currency,
            )
        case e.AppointmentRescheduled() if isinstance(state, AppointmentState):
            return replace(
                state,
                start_at=event.start_at,
                duration_minutes=event.duration_minutes,
                clinician_id=event.clinician_id,
                room_id=event.room_id,
            )
        case e.AppointmentCancelled() if isinstance(state, AppointmentState):
            return replace(state, status=AppointmentStatus.CANCELLED)
        case e.AppointmentArrived() if isinstance(state, AppointmentState):
            return replace(state, status=AppointmentStatus.ARRIVED)
        case e.AppointmentCompleted() if isinstance(state, AppointmentState):
            return replace(state, status=AppointmentStatus.COMPLETED)
        case e.AppointmentNoShow() if isinstance(state, AppointmentState):
            return replace(state, status=AppointmentStatus.NO_SHOW)
        case e.AppointmentPaymentTaken() if isinstance(state, AppointmentState):
            payment = Payment(event.kind, event.amount_minor)
            return replace(state, payments={**state.payments, event.payment_id: payment})
        case e.AppointmentPaymentRefunded() if isinstance(state, AppointmentState):
            paid = state.payments[event.payment_id]
            refunded = replace(paid, refunded_minor=paid.refunded_minor + event.amount_minor)
            return replace(state, payments={**state.payments, event.payment_id: refunded})
        case e.DepositForfeited() if isinstance(state, AppointmentState):
            return replace(
                state,
                payments=_forfeit_deposits(state.payments, event.amount_minor),
                forfeited_minor=state.forfeited_minor + event.amount_minor,
            )
        case e.FollowUpScheduled() if isinstance(state, AppointmentState):
            return replace(state, follow_ups=state.follow_ups | {event.follow_up_id})
        case e.InvoiceIssued():
            return InvoiceState(
                currency=event.currency,
                amount_minor=event.amount_minor,
                patient_id=event.patient_id,
            )
        case e.PaymentCaptured() if isinstance(state, InvoiceState):
            return replace(state, payments={**state.payments, event.payment_id: event.amount_minor})
        case e.RefundIssued() if isinstance(state, InvoiceState):
            total = state.refunds.get(event.payment_id, 0) + event.amount_minor
            return replace(state, refunds={**state.refunds, event.payment_id: total})
        case e.CreditNoteIssued() if isinstance(state, InvoiceState):
            credits = {**state.credits, event.credit_note_id: event.amount_minor}
            return replace(state, credits=credits)
        case e.BillingPolicySet():
            return BillingPolicy(event.refunds_credit_invoices)
        case (
            e.PatientRegistered()
            | e.ReferralReceived()
            | e.NpsResponseRecorded()
            | e.MarketingTouchRecorded()
        ):
            return Created()
        case e.BillAssigned():
            return state if isinstance(state, BillState) else BillState(event.invoice_id)
        case e.ComplaintRecorded():
            return ComplaintState(event.patient_id, event.appointment_id, event.complaint_category)
        case e.ComplaintStatusChanged() if isinstance(state, ComplaintState):
            return replace(state, status=event.status)
    alert_rule = evolve_alert_rule(event)
    if alert_rule is not None:
        return alert_rule
    snapshot_schedule = evolve_snapshot_schedule(event)
    if snapshot_schedule is not None:
        return snapshot_schedule
    schedule = evolve_schedule(state if isinstance(state, ScheduleState) else None, event)
    if schedule is not None:
        return schedule
    reference = evolve_reference(state if not isinstance(state, ScheduleState) else None, event)  # type: ignore[arg-type]
    if reference is not None:
        return reference
    raise ValueError(f"{event.event_type} cannot follow state {type(state).__name__}")


def _forfeit_deposits(payments: dict[str, Payment], amount: int) -> dict[str, Payment]:
    """Charge a forfeiture to the deposits still held, oldest first, so that each
    payment knows what of it may still be refunded."""
    charged = dict(payments)
    for payment_id, payment in payments.items():
        if amount <= 0:
            break
        if payment.kind is PaymentKind.DEPOSIT and payment.refundable_minor > 0:
            take = min(amount, payment.refundable_minor)
            charged[payment_id] = replace(payment, forfeited_minor=payment.forfeited_minor + take)
            amount -= take
    return charged


def fold(events: Iterable[e.EventPayload]) -> State | None:
    state: State | None = None
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: c.Command, state: State | None, context: Context) -> list[NewEvent]:
    if command.creates:
        if state is not None:
            raise StreamAlreadyExists(
                f"{command.category} {command.entity_id()} already exists",
                field=f"{command.category}_id",
            )
        return _decide_creation(command, context)
    if state is None and not command.upserts:
        raise StreamNotFound(
            f"{command.category} {command.entity_id()} does not exist",
            field=f"{command.category}_id",
        )
    match command:
        case c.UpdatePriceList():
            return [NewEvent(_decide_price_list(command, context))]
        case c.SetCancellationPolicy():
            return [NewEvent(e.CancellationPolicySet(**_event_fields(command)))]
        case c.SetBillingPolicy():
            return [NewEvent(e.BillingPolicySet(**_event_fields(command)))]
        case c.SetSnapshotSchedule():
            return [NewEvent(e.SnapshotScheduleSet(**_event_fields(command)))]
        case c.RemoveSnapshotSchedule():
            if not isinstance(state, SnapshotScheduleState) or state.schedule is None:
                raise StreamNotFound(
                    f"snapshot schedule {command.snapshot_id} was removed", field="snapshot_id"
                )
            return [NewEvent(e.SnapshotScheduleRemoved(snapshot_id=command.snapshot_id))]
        case c.SetAlertRule():
            return [NewEvent(e.AlertRuleSet(rule=command.rule))]
        case c.RemoveAlertRule():
            if not isinstance(state, AlertRuleState) or state.rule is None:
                raise StreamNotFound(f"alert rule {command.rule_id} was removed", field="rule_id")
            return [NewEvent(e.AlertRuleRemoved(rule_id=command.rule_id))]
    if isinstance(state, AppointmentState):
        return [
            NewEvent(payload) for payload in _decide_appointment_change(command, state, context)
        ]
    if isinstance(state, InvoiceState):
        if isinstance(command, c.IssueCreditNote):
            return [_decide_credit_note(command, state)]
        return [NewEvent(_decide_invoice_change(command, state))]
    if isinstance(state, ClinicianState):
        return [NewEvent(_decide_clinician_change(command, state, context))]
    raise DomainError(f"{command.name} does not apply to a {command.category}")


def _decide_creation(command: c.Command, context: Context) -> list[NewEvent]:
    match command:
        case c.RegisterBranch():
            return [NewEvent(e.BranchRegistered(**_event_fields(command, keep_branch=True)))]
        case c.RegisterClinician():
            require_branch(context.branch, command.branch_id)
            return [NewEvent(e.ClinicianRegistered(**_event_fields(command, keep_branch=True)))]
        case c.RegisterRoom():
            require_branch(context.branch, command.branch_id)
            return [NewEvent(e.RoomRegistered(**_event_fields(command, keep_branch=True)))]
        case c.RegisterPatient():
            payload = e.PatientRegistered(
                patient_id=command.patient_id,
                home_branch_id=command.branch_id,
                sex=command.sex,
                channel=command.channel,
            )
            return [NewEvent(payload, command.personal, command.patient_id)]
        case c.BookAppointment():
            return [NewEvent(_decide_booking(command, context))]
        case c.IssueInvoice():
            return [NewEvent(e.InvoiceIssued(**_event_fields(command)))]
        case c.RecordReferral():
            return [NewEvent(e.ReferralReceived(**_event_fields(command)))]
        case c.RecordNpsResponse():
            nps = e.NpsResponseRecorded(
                response_id=command.response_id,
                patient_id=command.patient_id,
                appointment_id=command.appointment_id,
                score=command.score,
            )
            if command.comment:
                comment = e.FreeTextPersonalData(comment=command.comment)
                return [NewEvent(nps, comment, command.patient_id)]
            return [NewEvent(nps)]
        case c.RecordMarketingTouch():
            return [NewEvent(e.MarketingTouchRecorded(**_event_fields(command)))]
    raise DomainError(f"{command.name} cannot create a {command.category}")


def _decide_booking(command: c.BookAppointment, context: Context) -> e.AppointmentBooked:
    branch = require_branch(context.branch, command.branch_id)
    clinician = require_clinician(
        context.clinician, command.clinician_id, command.branch_id, command.modality
    )
    require_room(context.room, command.room_id, command.branch_id, command.modality)
    entry, effective_from = require_price(
        context.prices,
        branch,
        command.procedure_code,
        command.modality,
        context.now,
        procedure=context.procedure,
    )
    if command.follow_up_id is not None:
        _require_follow_up(command, context.follow_up_origin)
    start = branch.local(command.start_at)
    duration = command.duration_minutes or entry.duration_minutes
    require_future(start, context.now)
    require_within_working_hours(clinician, branch, start, start + timedelta(minutes=duration))
    fields = _event_fields(command)
    fields.update(
        start_at=start,
        duration_minutes=duration,
        price_minor=entry.price_minor,
        currency=entry.currency,
        price_effective_from=effective_from,
    )
    return e.AppointmentBooked(**fields)


def _require_follow_up(command: c.BookAppointment, origin: AppointmentState | None) -> None:
    if origin is None or command.follow_up_id not in origin.follow_ups:
        raise UnknownReference(
            f"appointment {command.follow_up_appointment_id} scheduled no follow-up "
            f"{command.follow_up_id}",
            field="follow_up_id",
        )
    if origin.patient_id != command.patient_id:
        raise DomainError(
            f"follow-up {command.follow_up_id} is another patient's", field="follow_up_id"
        )


def _decide_price_list(command: c.UpdatePriceList, context: Context) -> e.PriceListUpdated:
    branch = require_branch(context.branch, command.branch_id)
    for entry in command.prices:
        if entry.currency != branch.currency:
            raise DomainError(
                f"branch {branch.branch_id} prices in {branch.currency}, not {entry.currency}",
                field="prices",
            )
    codes = [entry.procedure_code for entry in command.prices]
    if len(set(codes)) != len(codes):
        raise DomainError("a procedure is priced twice in one update", field="prices")
    return e.PriceListUpdated(**_event_fields(command, keep_branch=True))


def _decide_clinician_change(
    command: c.Command, state: ClinicianState, context: Context
) -> e.EventPayload:
    match command:
        case c.BlockClinicianTime():
            if command.end_at <= command.start_at:
                raise DomainError("a block must end after it starts", field="end_at")
            if command.end_at - command.start_at > timedelta(days=62):
                raise DomainError("a block may last at most 62 days", field="end_at")
            if command.block_id in state.blocks:
                raise StreamAlreadyExists(
                    f"block {command.block_id} already exists", field="block_id"
                )
            if command.end_at <= context.now:
                raise DomainError("the block is over already", field="end_at")
            return e.ClinicianTimeBlocked(**_event_fields(command))
        case c.UnblockClinicianTime():
            if command.block_id not in state.blocks:
                raise StreamNotFound(f"no block {command.block_id}", field="block_id")
            return e.ClinicianTimeUnblocked(**_event_fields(command))
    raise DomainError(f"{command.name} does not apply to a clinician")


_TRANSITIONS: dict[type[c.Command], frozenset[AppointmentStatus]] = {
    c.RescheduleAppointment: frozenset({AppointmentStatus.BOOKED}),
    c.CancelAppointment: frozenset({AppointmentStatus.BOOKED}),
    c.MarkArrived: frozenset({AppointmentStatus.BOOKED}),
    c.CompleteAppointment: frozenset({AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED}),
    c.MarkNoShow: frozenset({AppointmentStatus.BOOKED}),
    c.ScheduleFollowUp: frozenset({AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED}),
    c.RefundAppointmentPayment: frozenset(AppointmentStatus),
}
_NOT_CANCELLED = frozenset(AppointmentStatus) - {AppointmentStatus.CANCELLED}


def _decide_appointment_change(
    command: c.Command, state: AppointmentState, context: Context
) -> list[e.EventPayload]:
    allowed = _TRANSITIONS.get(type(command), _NOT_CANCELLED)
    if isinstance(command, c.TakePayment) and command.kind is PaymentKind.DEPOSIT:
        allowed = frozenset({AppointmentStatus.BOOKED})
    if state.status not in allowed:
        raise DomainError(
            f"appointment is {state.status.value}; {command.name} needs it "
            + " or ".join(sorted(status.value for status in allowed)),
            field="appointment_id",
        )
    apt = command.entity_id()
    match command:
        case c.RescheduleAppointment():
            return [_decide_reschedule(command, state, context)]
        case c.CancelAppointment():
            cancelled = e.AppointmentCancelled(appointment_id=apt, reason=command.reason)
            return [cancelled, *_forfeiture(apt, state, context, "late_cancellation")]
        case c.MarkArrived():
            return [e.AppointmentArrived(appointment_id=apt)]
        case c.CompleteAppointment():
            return [e.AppointmentCompleted(appointment_id=apt)]
        case c.MarkNoShow():
            return [
                e.AppointmentNoShow(appointment_id=apt),
                *_forfeiture(apt, state, context, "no_show"),
            ]
        case c.TakePayment():
            return [_decide_payment(command, state)]
        case c.RefundAppointmentPayment():
            return [_decide_refund(command, state)]
        case c.ScheduleFollowUp():
            if command.follow_up_id in state.follow_ups:
                raise StreamAlreadyExists(
                    f"follow-up {command.follow_up_id} already exists", field="follow_up_id"
                )
            return [e.FollowUpScheduled(patient_id=state.patient_id, **_event_fields(command))]
    raise DomainError(f"{command.name} does not apply to an appointment")


def _decide_reschedule(
    command: c.RescheduleAppointment, state: AppointmentState, context: Context
) -> e.AppointmentRescheduled:
    branch = require_branch(context.branch, command.branch_id)
    clinician_id = command.clinician_id or state.clinician_id
    room_id = command.room_id or state.room_id
    clinician = require_clinician(
        context.clinician, clinician_id, command.branch_id, state.modality
    )
    require_room(context.room, room_id, command.branch_id, state.modality)
    start = branch.local(command.start_at)
    duration = command.duration_minutes or state.duration_minutes
    if (start, duration, clinician_id, room_id) == (
        state.start_at,
        state.duration_minutes,
        state.clinician_id,
        state.room_id,
    ):
        raise DomainError("the new time and resources equal the current ones", field="start_at")
    require_future(start, context.now)
    require_within_working_hours(clinician, branch, start, start + timedelta(minutes=duration))
    return e.AppointmentRescheduled(
        appointment_id=command.appointment_id,
        previous_start_at=state.start_at,
        start_at=start,
        duration_minutes=duration,
        clinician_id=clinician_id,
        room_id=room_id,
        reason=command.reason,
    )


def _forfeiture(
    appointment_id: str,
    state: AppointmentState,
    context: Context,
    trigger: Literal["late_cancellation", "no_show"],
) -> list[e.EventPayload]:
    return deposit_forfeiture(appointment_id, state, context.policy, context.now, trigger)


def deposit_forfeiture(
    appointment_id: str,
    state: AppointmentState,
    policy: CancellationPolicy,
    now: datetime,
    trigger: Literal["late_cancellation", "no_show"],
) -> list[e.EventPayload]:
    """The deposit kept under the tenant's policy when the appointment is cancelled or
    missed at ``now``, recorded with the policy applied (none when it does not apply)."""
    hours_before = (state.start_at - now).total_seconds() / 3600
    applies = (
        policy.forfeit_on_no_show
        if trigger == "no_show"
        else hours_before < policy.forfeit_within_hours
    )
    amount = state.deposits_held_minor * policy.forfeit_percent // 100
    if not applies or amount <= 0:
        return []
    return [
        e.DepositForfeited(
            appointment_id=appointment_id,
            amount_minor=amount,
            currency=state.currency,
            trigger=trigger,
            hours_before_start=round(hours_before, 2),
            policy_within_hours=policy.forfeit_within_hours,
            policy_percent=policy.forfeit_percent,
        )
    ]


def _decide_payment(command: c.TakePayment, state: AppointmentState) -> e.EventPayload:
    _require_currency(command.currency, state.currency, "appointment")
    if command.payment_id in state.payments:
        raise StreamAlreadyExists(
            f"payment {command.payment_id} is already recorded", field="payment_id"
        )
    outstanding = state.price_minor - state.net_paid_minor
    if command.amount_minor > outstanding:
        raise DomainError(
            f"payment of {command.amount_minor} exceeds the outstanding "
            f"{outstanding} {state.currency}",
            field="amount_minor",
        )
    return e.AppointmentPaymentTaken(**_event_fields(command))


def _decide_refund(command: c.RefundAppointmentPayment, state: AppointmentState) -> e.EventPayload:
    _require_currency(command.currency, state.currency, "appointment")
    payment = state.payments.get(command.payment_id)
    if payment is None:
        raise DomainError(
            f"payment {command.payment_id} is not on this appointment", field="payment_id"
        )
    refundable = payment.refundable_minor
    if command.amount_minor > refundable:
        raise DomainError(
            f"refund of {command.amount_minor} exceeds the refundable "
            f"{refundable} {state.currency} (paid {payment.amount_minor}, refunded "
            f"{payment.refunded_minor}, forfeited {payment.forfeited_minor})",
            field="amount_minor",
        )
    return e.AppointmentPaymentRefunded(**_event_fields(command))


def _decide_credit_note(command: c.IssueCreditNote, state: InvoiceState) -> NewEvent:
    _require_currency(command.currency, state.currency)
    if command.credit_note_id in state.credits:
        raise StreamAlreadyExists(
            f"credit note {command.credit_note_id} is already recorded", field="credit_note_id"
        )
    creditable = state.amount_minor - state.credited_minor
    if command.amount_minor > creditable:
        raise DomainError(
            f"credit of {command.amount_minor} exceeds what the invoice billed less its "
            f"earlier credits: {creditable} {state.currency}",
            field="amount_minor",
        )
    credited = e.CreditNoteIssued(
        invoice_id=command.invoice_id,
        credit_note_id=command.credit_note_id,
        amount_minor=command.amount_minor,
        currency=command.currency,
    )
    reason = e.FreeTextPersonalData(comment=command.reason)
    return NewEvent(credited, reason if state.patient_id else None, state.patient_id)


def _decide_invoice_change(command: c.Command, state: InvoiceState) -> e.EventPayload:
    match command:
        case c.CapturePayment():
            _require_currency(command.currency, state.currency)
            if command.payment_id in state.payments:
                raise DomainError(
                    f"payment {command.payment_id} is already recorded", field="payment_id"
                )
            outstanding = state.owed_minor
            if command.amount_minor > outstanding:
                raise DomainError(
                    f"payment of {command.amount_minor} exceeds the outstanding "
                    f"{outstanding} {state.currency}",
                    field="amount_minor",
                )
            return e.PaymentCaptured(**_event_fields(command))
        case c.RefundPayment():
            _require_currency(command.currency, state.currency)
            paid = state.payments.get(command.payment_id)
            if paid is None:
                raise DomainError(
                    f"payment {command.payment_id} is not on this invoice", field="payment_id"
                )
            refundable = paid - state.refunds.get(command.payment_id, 0)
            if command.amount_minor > refundable:
                raise DomainError(
                    f"refund of {command.amount_minor} exceeds the refundable "
                    f"{refundable} {state.currency}",
                    field="amount_minor",
                )
            return e.RefundIssued(**_event_fields(command))
    raise DomainError(f"{command.name} does not apply to an invoice")


def _event_fields(command: c.Command, *, keep_branch: bool = False) -> dict[str, Any]:
    """The command's own fields, which the event it creates repeats by name."""
    exclude = _ENVELOPE_FIELDS - {"branch_id"} if keep_branch else _ENVELOPE_FIELDS
    return command.model_dump(exclude=exclude)


_ENVELOPE_FIELDS = {"tenant_id", "branch_id", "expected_version", "occurred_at"}


def _require_currency(given: str, expected: str, what: str = "invoice") -> None:
    if given != expected:
        raise DomainError(f"the {what} is in {expected}, not {given}", field="currency")


# --- the intervals an aggregate holds on resource days --------------------------------------


def held_slots(owner: str, state: State | None, branch: BranchState | None = None) -> list[Slot]:
    """The resource intervals an appointment or a clinician's blocks hold.

    An appointment holds its clinician's and room's interval from booking until it is
    cancelled (a completed or missed appointment keeps it: the time was spent). A
    clinician holds each of its blocks, cut at the branch's midnights."""
    if isinstance(state, AppointmentState):
        if state.status is AppointmentStatus.CANCELLED:
            return []
        return [
            Slot("clinician", state.clinician_id, state.start_at, state.end_at, owner),
            Slot("room", state.room_id, state.start_at, state.end_at, owner),
        ]
    if isinstance(state, ClinicianState) and state.blocks:
        if branch is None:
            raise DomainError("the clinician's branch is not registered", field="branch_id")
        return [
            Slot("clinician", state.clinician_id, start, end, BLOCK_PREFIX + block_id)
            for block_id, (begin, finish) in state.blocks.items()
            for start, end in split_by_day(begin, finish, branch.zone)
        ]
    return []
