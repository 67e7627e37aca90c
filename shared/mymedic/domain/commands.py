"""Commands: what a staff console, the patient portal or an integration asks for."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from mymedic.domain.alert_rules import AlertRule
from mymedic.domain.events import (
    BILLING_POLICY,
    CANCELLATION_POLICY,
    Codes,
    Gclid,
    InvoicePaymentProvider,
    PatientPersonalData,
    PriceEntry,
    Reference,
    ShortText,
    SnapshotBranches,
    SnapshotFormats,
    SnapshotFrequency,
    SnapshotRecipients,
    TimeZoneName,
    WorkingHours,
)
from mymedic.domain.types import (
    AwareDatetime,
    Channel,
    CurrencyCode,
    Identifier,
    MinorUnits,
    PayerType,
    PaymentKind,
    PaymentMode,
    ReferrerType,
)
from mymedic.reports.catalog import REPORTS


def _known_report(name: str) -> str:
    known = [spec.name for spec in REPORTS]
    if name not in known:
        raise ValueError(f"no report {name!r}; known: {', '.join(known)}")
    return name


KnownReport = Annotated[str, AfterValidator(_known_report)]
PositiveMinorUnits = Annotated[int, Field(gt=0, le=10**12)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    category: ClassVar[str]
    creates: ClassVar[bool] = False
    # Creates its stream on first use and appends to it after (price lists, policies).
    upserts: ClassVar[bool] = False

    tenant_id: Identifier
    branch_id: Identifier
    # Optimistic concurrency: when given, the stream must be at exactly this version.
    expected_version: int | None = Field(default=None, ge=0)
    # When the fact happened, for back-dated entry and imports; defaults to receipt time.
    occurred_at: AwareDatetime | None = None

    def entity_id(self) -> str:
        raise NotImplementedError


# --- the directory ----------------------------------------------------------------------


class RegisterBranch(Command):
    name: ClassVar[str] = "register_branch"
    category: ClassVar[str] = "branch"
    creates: ClassVar[bool] = True

    display_name: ShortText
    city: ShortText
    timezone: TimeZoneName
    currency: CurrencyCode

    def entity_id(self) -> str:
        return self.branch_id


class RegisterClinician(Command):
    name: ClassVar[str] = "register_clinician"
    category: ClassVar[str] = "clinician"
    creates: ClassVar[bool] = True

    clinician_id: Identifier
    display_name: ShortText
    modalities: Codes
    working_hours: Annotated[list[WorkingHours], Field(min_length=1, max_length=50)]

    def entity_id(self) -> str:
        return self.clinician_id


class _ClinicianCommand(Command):
    category: ClassVar[str] = "clinician"
    clinician_id: Identifier

    def entity_id(self) -> str:
        return self.clinician_id


class BlockClinicianTime(_ClinicianCommand):
    name: ClassVar[str] = "block_clinician_time"

    block_id: Identifier
    start_at: AwareDatetime
    end_at: AwareDatetime
    reason: ShortText


class UnblockClinicianTime(_ClinicianCommand):
    name: ClassVar[str] = "unblock_clinician_time"

    block_id: Identifier


class RegisterRoom(Command):
    name: ClassVar[str] = "register_room"
    category: ClassVar[str] = "room"
    creates: ClassVar[bool] = True

    room_id: Identifier
    display_name: ShortText
    modalities: Codes
    # The equipment in the room (scanner models, coils...), as codes.
    equipment: Annotated[list[Identifier], Field(max_length=50)] = Field(default_factory=list)

    def entity_id(self) -> str:
        return self.room_id


class UpdatePriceList(Command):
    name: ClassVar[str] = "update_price_list"
    category: ClassVar[str] = "price_list"
    upserts: ClassVar[bool] = True

    effective_from: date
    prices: Annotated[list[PriceEntry], Field(min_length=1, max_length=500)]

    def entity_id(self) -> str:
        return self.branch_id


class SetCancellationPolicy(Command):
    """Tenant-wide: its ``branch_id`` is ``*`` and only a token for every branch may
    send it."""

    name: ClassVar[str] = "set_cancellation_policy"
    category: ClassVar[str] = "policy"
    upserts: ClassVar[bool] = True

    branch_id: Literal["*"] = "*"
    forfeit_within_hours: int = Field(ge=0, le=24 * 30)
    forfeit_percent: int = Field(ge=0, le=100)
    forfeit_on_no_show: bool = True

    def entity_id(self) -> str:
        return CANCELLATION_POLICY


class SetSnapshotSchedule(Command):
    """Create or replace a tenant-wide snapshot e-mail schedule (``branch_id`` ``*``;
    ``branches`` narrows the reports' rows)."""

    name: ClassVar[str] = "set_snapshot_schedule"
    category: ClassVar[str] = "snapshot_schedule"
    upserts: ClassVar[bool] = True

    branch_id: Literal["*"] = "*"
    snapshot_id: Identifier
    reports: Annotated[list[KnownReport], Field(min_length=1, max_length=6)]
    frequency: SnapshotFrequency
    formats: SnapshotFormats = Field(default_factory=list)
    recipients: SnapshotRecipients
    branches: SnapshotBranches = Field(default_factory=lambda: ["*"])
    enabled: bool = True

    @model_validator(mode="after")
    def _no_repeats(self) -> SetSnapshotSchedule:
        for field, values in (("reports", self.reports), ("formats", self.formats)):
            if len(set(values)) != len(values):
                raise ValueError(f"{field} names an entry twice")
        if "*" in self.branches and len(self.branches) > 1:
            raise ValueError('branches is either ["*"] or a list of branch ids')
        return self

    def entity_id(self) -> str:
        return self.snapshot_id


class RemoveSnapshotSchedule(Command):
    name: ClassVar[str] = "remove_snapshot_schedule"
    category: ClassVar[str] = "snapshot_schedule"

    branch_id: Literal["*"] = "*"
    snapshot_id: Identifier

    def entity_id(self) -> str:
        return self.snapshot_id


class SetAlertRule(Command):
    """Create or replace a tenant-wide alert rule (``branch_id`` ``*``; the rule's own
    ``branches`` scope what it watches)."""

    name: ClassVar[str] = "set_alert_rule"
    category: ClassVar[str] = "alert_rule"
    upserts: ClassVar[bool] = True

    branch_id: Literal["*"] = "*"
    rule: AlertRule

    def entity_id(self) -> str:
        return self.rule.rule_id


class RemoveAlertRule(Command):
    name: ClassVar[str] = "remove_alert_rule"
    category: ClassVar[str] = "alert_rule"

    branch_id: Literal["*"] = "*"
    rule_id: Identifier

    def entity_id(self) -> str:
        return self.rule_id


# --- patients and appointments ------------------------------------------------------------


class RegisterPatient(Command):
    name: ClassVar[str] = "register_patient"
    category: ClassVar[str] = "patient"
    creates: ClassVar[bool] = True

    patient_id: Identifier
    sex: Literal["female", "male", "other", "unknown"] = "unknown"
    channel: Channel
    personal: PatientPersonalData

    def entity_id(self) -> str:
        return self.patient_id


class _AppointmentCommand(Command):
    category: ClassVar[str] = "appointment"
    appointment_id: Identifier

    def entity_id(self) -> str:
        return self.appointment_id


class BookAppointment(_AppointmentCommand):
    name: ClassVar[str] = "book_appointment"
    creates: ClassVar[bool] = True

    patient_id: Identifier
    clinician_id: Identifier
    room_id: Identifier
    modality: Identifier
    procedure_code: Identifier
    start_at: AwareDatetime
    # Defaults to the procedure's duration on the price list.
    duration_minutes: int | None = Field(default=None, ge=5, le=720)
    channel: Channel
    referral_id: Identifier | None = None
    gclid: Gclid | None = None
    # A follow-up this booking answers: the appointment that scheduled it, and its id.
    follow_up_appointment_id: Identifier | None = None
    follow_up_id: Identifier | None = None

    @model_validator(mode="after")
    def _follow_up_named_whole(self) -> BookAppointment:
        if (self.follow_up_id is None) != (self.follow_up_appointment_id is None):
            raise ValueError("follow_up_id and follow_up_appointment_id go together")
        return self


class RescheduleAppointment(_AppointmentCommand):
    name: ClassVar[str] = "reschedule_appointment"

    start_at: AwareDatetime
    duration_minutes: int | None = Field(default=None, ge=5, le=720)
    clinician_id: Identifier | None = None
    room_id: Identifier | None = None
    reason: ShortText | None = None


class CancelAppointment(_AppointmentCommand):
    name: ClassVar[str] = "cancel_appointment"

    reason: ShortText


class MarkArrived(_AppointmentCommand):
    name: ClassVar[str] = "mark_arrived"


class CompleteAppointment(_AppointmentCommand):
    name: ClassVar[str] = "complete_appointment"


class MarkNoShow(_AppointmentCommand):
    name: ClassVar[str] = "mark_no_show"


class TakePayment(_AppointmentCommand):
    """A deposit ahead of the visit or a payment towards the appointment's price."""

    name: ClassVar[str] = "take_payment"

    payment_id: Identifier
    kind: PaymentKind
    amount_minor: PositiveMinorUnits
    currency: CurrencyCode
    mode: PaymentMode
    provider: Literal["cash", "stripe", "razorpay", "console"]
    provider_reference: Reference | None = None


class RefundAppointmentPayment(_AppointmentCommand):
    name: ClassVar[str] = "refund_appointment_payment"

    refund_id: Identifier
    payment_id: Identifier
    amount_minor: PositiveMinorUnits
    currency: CurrencyCode
    reason: ShortText


class ScheduleFollowUp(_AppointmentCommand):
    name: ClassVar[str] = "schedule_follow_up"

    follow_up_id: Identifier
    due_on: date
    procedure_code: Identifier
    modality: Identifier
    clinician_id: Identifier | None = None


class _InvoiceCommand(Command):
    category: ClassVar[str] = "invoice"
    invoice_id: Identifier

    def entity_id(self) -> str:
        return self.invoice_id


class IssueInvoice(_InvoiceCommand):
    name: ClassVar[str] = "issue_invoice"
    creates: ClassVar[bool] = True

    appointment_id: Identifier
    patient_id: Identifier
    payer_type: PayerType
    amount_minor: MinorUnits
    currency: CurrencyCode
    due_on: date


class CapturePayment(_InvoiceCommand):
    name: ClassVar[str] = "capture_payment"

    payment_id: Identifier
    amount_minor: PositiveMinorUnits
    currency: CurrencyCode
    mode: PaymentMode
    provider: InvoicePaymentProvider
    provider_reference: Reference | None = None


class RefundPayment(_InvoiceCommand):
    name: ClassVar[str] = "refund_payment"

    refund_id: Identifier
    payment_id: Identifier
    amount_minor: PositiveMinorUnits
    currency: CurrencyCode
    reason: ShortText


class IssueCreditNote(_InvoiceCommand):
    """Credit part of an invoice: never more than it billed less its earlier credits."""

    name: ClassVar[str] = "issue_credit_note"

    credit_note_id: Identifier
    amount_minor: PositiveMinorUnits
    currency: CurrencyCode
    reason: ShortText


class SetBillingPolicy(Command):
    """Tenant-wide (``branch_id`` ``*``): whether a gateway refund of an invoice payment
    also credits the invoice."""

    name: ClassVar[str] = "set_billing_policy"
    category: ClassVar[str] = "policy"
    upserts: ClassVar[bool] = True

    branch_id: Literal["*"] = "*"
    refunds_credit_invoices: bool

    def entity_id(self) -> str:
        return BILLING_POLICY


class RecordReferral(Command):
    name: ClassVar[str] = "record_referral"
    category: ClassVar[str] = "referral"
    creates: ClassVar[bool] = True

    referral_id: Identifier
    patient_id: Identifier
    referrer_id: Identifier
    referrer_type: ReferrerType

    def entity_id(self) -> str:
        return self.referral_id


class RecordNpsResponse(Command):
    name: ClassVar[str] = "record_nps_response"
    category: ClassVar[str] = "nps"
    creates: ClassVar[bool] = True

    response_id: Identifier
    patient_id: Identifier
    appointment_id: Identifier | None = None
    score: int = Field(ge=0, le=10)
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None

    def entity_id(self) -> str:
        return self.response_id


class RecordMarketingTouch(Command):
    name: ClassVar[str] = "record_marketing_touch"
    category: ClassVar[str] = "marketing"
    creates: ClassVar[bool] = True

    touch_id: Identifier
    gclid: Gclid | None = None
    session_id: Identifier | None = None
    source: ShortText
    medium: ShortText
    campaign: ShortText | None = None
    ad_group: ShortText | None = None
    keyword: ShortText | None = None
    landing_page: Annotated[str, StringConstraints(max_length=2000)] | None = None
    patient_id: Identifier | None = None
    booking_flag: bool = False

    def entity_id(self) -> str:
        return self.touch_id


COMMANDS: dict[str, type[Command]] = {
    model.name: model
    for model in (
        RegisterBranch,
        RegisterClinician,
        BlockClinicianTime,
        UnblockClinicianTime,
        RegisterRoom,
        UpdatePriceList,
        SetCancellationPolicy,
        SetSnapshotSchedule,
        RemoveSnapshotSchedule,
        SetAlertRule,
        RemoveAlertRule,
        RegisterPatient,
        BookAppointment,
        RescheduleAppointment,
        CancelAppointment,
        MarkArrived,
        CompleteAppointment,
        MarkNoShow,
        TakePayment,
        RefundAppointmentPayment,
        ScheduleFollowUp,
        IssueInvoice,
        CapturePayment,
        RefundPayment,
        IssueCreditNote,
        SetBillingPolicy,
        RecordReferral,
        RecordNpsResponse,
        RecordMarketingTouch,
    )
}
