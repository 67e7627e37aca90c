"""Commands: what a staff console, the patient portal or an integration asks for."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mymedic.domain.events import PatientPersonalData, ShortText
from mymedic.domain.types import (
    AwareDatetime,
    Channel,
    CurrencyCode,
    Identifier,
    MinorUnits,
    PayerType,
    PaymentMode,
    ReferrerType,
)


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    category: ClassVar[str]
    creates: ClassVar[bool] = False

    tenant_id: Identifier
    branch_id: Identifier
    # Optimistic concurrency: when given, the stream must be at exactly this version.
    expected_version: int | None = Field(default=None, ge=0)
    # When the fact happened, for back-dated entry and imports; defaults to receipt time.
    occurred_at: AwareDatetime | None = None

    def entity_id(self) -> str:
        raise NotImplementedError


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
    duration_minutes: int = Field(ge=5, le=720)
    channel: Channel
    price_minor: MinorUnits
    currency: CurrencyCode
    referral_id: Identifier | None = None
    gclid: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


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


class CompleteAppointment(_AppointmentCommand):
    name: ClassVar[str] = "complete_appointment"


class MarkNoShow(_AppointmentCommand):
    name: ClassVar[str] = "mark_no_show"


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
    amount_minor: int = Field(gt=0, le=10**12)
    currency: CurrencyCode
    mode: PaymentMode
    provider: Literal["cash", "stripe", "razorpay", "console"]
    provider_reference: Annotated[str, StringConstraints(max_length=200)] | None = None


class RefundPayment(_InvoiceCommand):
    name: ClassVar[str] = "refund_payment"

    refund_id: Identifier
    payment_id: Identifier
    amount_minor: int = Field(gt=0, le=10**12)
    currency: CurrencyCode
    reason: ShortText


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
    gclid: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
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
        RegisterPatient,
        BookAppointment,
        RescheduleAppointment,
        CancelAppointment,
        CompleteAppointment,
        MarkNoShow,
        IssueInvoice,
        CapturePayment,
        RefundPayment,
        RecordReferral,
        RecordNpsResponse,
        RecordMarketingTouch,
    )
}
