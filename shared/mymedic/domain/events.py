"""The event catalogue: one immutable, versioned payload model per event type.

Personal data (name, phone, e-mail, date of birth, postcode, free text) never sits in
a payload: it travels in the envelope's separate ``personal`` part, keyed by the
patient it belongs to, so that it can be encrypted with a per-patient key and erased
by destroying that key while the rest of the log stays replayable.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

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

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class EventPayload(BaseModel):
    """Base of every payload. ``category`` names the aggregate stream it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    category: ClassVar[str]

    def entity_id(self) -> str:
        raise NotImplementedError

    def stream_id(self) -> str:
        return stream_id(self.category, self.entity_id())


def stream_id(category: str, entity_id: str) -> str:
    return f"{category}:{entity_id}"


def stream_category(stream: str) -> str:
    return stream.split(":", 1)[0]


# --- personal data parts -------------------------------------------------------------


class PatientPersonalData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: ShortText
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,20}$")] | None = None
    email: EmailStr | None = None
    date_of_birth: date | None = None
    postcode: Annotated[str, StringConstraints(min_length=2, max_length=12)] | None = None


class FreeTextPersonalData(BaseModel):
    """Free text written by or about a patient may reveal health data: personal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comment: Annotated[str, StringConstraints(max_length=2000)]


# --- patients ------------------------------------------------------------------------


class PatientRegistered(EventPayload):
    event_type: ClassVar[str] = "patient.registered"
    category: ClassVar[str] = "patient"

    patient_id: Identifier
    home_branch_id: Identifier
    sex: Literal["female", "male", "other", "unknown"] = "unknown"
    channel: Channel

    def entity_id(self) -> str:
        return self.patient_id


# --- appointments --------------------------------------------------------------------


class _AppointmentEvent(EventPayload):
    category: ClassVar[str] = "appointment"
    appointment_id: Identifier

    def entity_id(self) -> str:
        return self.appointment_id


class AppointmentBooked(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.booked"

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


class AppointmentRescheduled(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.rescheduled"

    previous_start_at: AwareDatetime
    start_at: AwareDatetime
    duration_minutes: int = Field(ge=5, le=720)
    clinician_id: Identifier
    room_id: Identifier
    reason: ShortText | None = None


class AppointmentCancelled(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.cancelled"

    reason: ShortText


class AppointmentCompleted(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.completed"


class AppointmentNoShow(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.no_show"


# --- invoices, payments, refunds (one stream per invoice) -----------------------------


class _InvoiceEvent(EventPayload):
    category: ClassVar[str] = "invoice"
    invoice_id: Identifier

    def entity_id(self) -> str:
        return self.invoice_id


class InvoiceIssued(_InvoiceEvent):
    event_type: ClassVar[str] = "invoice.issued"

    appointment_id: Identifier
    patient_id: Identifier
    payer_type: PayerType
    amount_minor: MinorUnits
    currency: CurrencyCode
    due_on: date


class PaymentCaptured(_InvoiceEvent):
    event_type: ClassVar[str] = "payment.captured"

    payment_id: Identifier
    amount_minor: MinorUnits
    currency: CurrencyCode
    mode: PaymentMode
    provider: Literal["cash", "stripe", "razorpay", "console"]
    provider_reference: Annotated[str, StringConstraints(max_length=200)] | None = None


class RefundIssued(_InvoiceEvent):
    event_type: ClassVar[str] = "refund.issued"

    refund_id: Identifier
    payment_id: Identifier
    amount_minor: MinorUnits
    currency: CurrencyCode
    reason: ShortText


# --- resource schedules: one stream per clinician or room and clinic day ----------------


class _ScheduleEvent(EventPayload):
    """A clinician's or a room's day. Bookings reserve their interval here in the same
    transaction as the appointment itself, so no two overlap for one resource."""

    category: ClassVar[str] = "schedule"
    resource_kind: Literal["clinician", "room"]
    resource_id: Identifier
    day: date
    appointment_id: Identifier

    def entity_id(self) -> str:
        return schedule_entity(self.resource_kind, self.resource_id, self.day)


def schedule_entity(kind: str, resource_id: str, day: date) -> str:
    return f"{kind}:{resource_id}:{day.isoformat()}"


class SlotReserved(_ScheduleEvent):
    event_type: ClassVar[str] = "schedule.slot_reserved"

    start_at: AwareDatetime
    end_at: AwareDatetime


class SlotReleased(_ScheduleEvent):
    event_type: ClassVar[str] = "schedule.slot_released"


# --- referrals, NPS, marketing -------------------------------------------------------


class ReferralReceived(EventPayload):
    event_type: ClassVar[str] = "referral.received"
    category: ClassVar[str] = "referral"

    referral_id: Identifier
    patient_id: Identifier
    referrer_id: Identifier
    referrer_type: ReferrerType

    def entity_id(self) -> str:
        return self.referral_id


class NpsResponseRecorded(EventPayload):
    event_type: ClassVar[str] = "nps.response_recorded"
    category: ClassVar[str] = "nps"

    response_id: Identifier
    patient_id: Identifier
    appointment_id: Identifier | None = None
    score: int = Field(ge=0, le=10)

    def entity_id(self) -> str:
        return self.response_id


class MarketingTouchRecorded(EventPayload):
    event_type: ClassVar[str] = "marketing.touch_recorded"
    category: ClassVar[str] = "marketing"

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


CATALOGUE: dict[str, type[EventPayload]] = {
    model.event_type: model
    for model in (
        PatientRegistered,
        AppointmentBooked,
        AppointmentRescheduled,
        AppointmentCancelled,
        AppointmentCompleted,
        AppointmentNoShow,
        InvoiceIssued,
        PaymentCaptured,
        RefundIssued,
        SlotReserved,
        SlotReleased,
        ReferralReceived,
        NpsResponseRecorded,
        MarketingTouchRecorded,
    )
}

PERSONAL_DATA_MODELS: dict[str, type[BaseModel]] = {
    PatientRegistered.event_type: PatientPersonalData,
    NpsResponseRecorded.event_type: FreeTextPersonalData,
}


class UnknownEventType(KeyError):
    pass


def payload_model(event_type: str) -> type[EventPayload]:
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def decode_payload(event_type: str, schema_version: int, data: dict[str, Any]) -> EventPayload:
    model = payload_model(event_type)
    if schema_version != model.schema_version:
        # Upcasters for older schema versions are registered here when a payload changes.
        raise ValueError(
            f"{event_type} schema version {schema_version} has no upcaster "
            f"to version {model.schema_version}"
        )
    return model.model_validate(data)
