"""The event catalogue: one immutable, versioned payload model per event type.

Personal data (name, phone, e-mail, date of birth, postcode, free text) never sits in
a payload: it travels in the envelope's separate ``personal`` part, keyed by the
patient it belongs to, and never reaches the warehouse. That part is not encrypted yet:
keeping it apart is what will let it be encrypted with a per-patient key (still to
come) and erased by destroying that key while the rest of the log stays replayable.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from mymedic.domain.alert_rules import AlertRule, Firing
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

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Gclid = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(max_length=200)]


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Asia/Kolkata)") from None
    return name


TimeZoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_time_zone)
]
Codes = Annotated[list[Identifier], Field(min_length=1, max_length=50)]


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


# --- the directory: branches, clinicians, rooms, price lists, policies ------------------


class BranchRegistered(EventPayload):
    event_type: ClassVar[str] = "branch.registered"
    category: ClassVar[str] = "branch"

    branch_id: Identifier
    display_name: ShortText
    city: ShortText
    # Working hours and the clinic day are wall-clock times of this zone.
    timezone: TimeZoneName
    currency: CurrencyCode

    def entity_id(self) -> str:
        return self.branch_id


class WorkingHours(BaseModel):
    """One working interval on one weekday (0 = Monday), in the branch's wall-clock time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekday: int = Field(ge=0, le=6)
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are wall-clock times of the branch, without offset")
        if self.start >= self.end:
            raise ValueError("working hours must end after they start")
        return self


class ClinicianRegistered(EventPayload):
    event_type: ClassVar[str] = "clinician.registered"
    category: ClassVar[str] = "clinician"

    clinician_id: Identifier
    branch_id: Identifier
    # A clinician's name is staff data, not a patient's: it may sit in the payload.
    display_name: ShortText
    modalities: Codes
    working_hours: Annotated[list[WorkingHours], Field(max_length=50)]

    def entity_id(self) -> str:
        return self.clinician_id


class ClinicianTimeBlocked(EventPayload):
    event_type: ClassVar[str] = "clinician.time_blocked"
    category: ClassVar[str] = "clinician"

    clinician_id: Identifier
    block_id: Identifier
    start_at: AwareDatetime
    end_at: AwareDatetime
    reason: ShortText

    def entity_id(self) -> str:
        return self.clinician_id


class ClinicianTimeUnblocked(EventPayload):
    event_type: ClassVar[str] = "clinician.time_unblocked"
    category: ClassVar[str] = "clinician"

    clinician_id: Identifier
    block_id: Identifier

    def entity_id(self) -> str:
        return self.clinician_id


class RoomRegistered(EventPayload):
    """A room, or a new version of it (a registration again replaces the previous one:
    Zoho-sourced rooms are registered again when their record changes)."""

    event_type: ClassVar[str] = "room.registered"
    category: ClassVar[str] = "room"

    room_id: Identifier
    branch_id: Identifier
    display_name: ShortText
    modalities: Codes
    # The equipment in the room (scanner models, coils...), as codes; may be empty.
    equipment: Annotated[list[Identifier], Field(max_length=50)] = Field(default_factory=list)

    def entity_id(self) -> str:
        return self.room_id


class PriceEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    procedure_code: Identifier
    modality: Identifier
    price_minor: MinorUnits
    currency: CurrencyCode
    duration_minutes: int = Field(ge=5, le=720)


class PriceListUpdated(EventPayload):
    """Prices of a branch from ``effective_from`` on; procedures not named keep the
    price they had."""

    event_type: ClassVar[str] = "price_list.updated"
    category: ClassVar[str] = "price_list"

    branch_id: Identifier
    effective_from: date
    prices: Annotated[list[PriceEntry], Field(min_length=1, max_length=500)]

    def entity_id(self) -> str:
        return self.branch_id


class CancellationPolicySet(EventPayload):
    """The tenant's policy: a cancellation less than ``forfeit_within_hours`` before the
    start (and, if ``forfeit_on_no_show``, a no-show) forfeits ``forfeit_percent`` of
    the deposits held."""

    event_type: ClassVar[str] = "policy.cancellation_set"
    category: ClassVar[str] = "policy"

    forfeit_within_hours: int = Field(ge=0, le=24 * 30)
    forfeit_percent: int = Field(ge=0, le=100)
    forfeit_on_no_show: bool = True

    def entity_id(self) -> str:
        return CANCELLATION_POLICY


CANCELLATION_POLICY = "cancellation"
BILLING_POLICY = "billing"


class BillingPolicySet(EventPayload):
    """The tenant's billing policy: whether a gateway refund of an invoice payment also
    credits the invoice (the clinic gives the money back and claims it no more), or
    leaves it owed (a receivable: the payer must pay again)."""

    event_type: ClassVar[str] = "policy.billing_set"
    category: ClassVar[str] = "policy"

    refunds_credit_invoices: bool = False

    def entity_id(self) -> str:
        return BILLING_POLICY


class ProcedureRegistered(EventPayload):
    """A procedure of the tenant's catalogue (one stream per procedure code), or a new
    version of it. Its price, when given, is the tenant-wide price from
    ``effective_from`` on: a branch's own price list, where it prices the procedure,
    comes first."""

    event_type: ClassVar[str] = "procedure.registered"
    category: ClassVar[str] = "procedure"

    procedure_code: Identifier
    display_name: ShortText | None = None
    modality: Identifier
    duration_minutes: int = Field(ge=5, le=720)
    price_minor: MinorUnits | None = None
    currency: CurrencyCode | None = None
    effective_from: date | None = None

    @model_validator(mode="after")
    def _priced_in_a_currency(self) -> ProcedureRegistered:
        if (self.price_minor is None) != (self.currency is None):
            raise ValueError("a price needs its currency, and a currency its price")
        if self.price_minor is not None and self.effective_from is None:
            raise ValueError("a price needs the date it takes effect (effective_from)")
        return self

    def entity_id(self) -> str:
        return self.procedure_code


class ReferrerRegistered(EventPayload):
    """Who refers patients (a GP, a consultant, an insurer, a corporate, the patient
    themself) and of which type; a registration again replaces the type."""

    event_type: ClassVar[str] = "referrer.registered"
    category: ClassVar[str] = "referrer"

    referrer_id: Identifier
    referrer_type: ReferrerType

    def entity_id(self) -> str:
        return self.referrer_id


# --- report snapshots: schedules (tenant configuration) and what was sent ---------------

SnapshotFrequency = Literal["daily", "weekly", "monthly"]
SnapshotFormat = Literal["csv", "xlsx"]
# Report names are checked against the catalogue by the command, not here: a report
# retired from the catalogue must not make old events unreadable.
SnapshotReports = Annotated[list[Identifier], Field(min_length=1, max_length=6)]
SnapshotRecipients = Annotated[list[EmailStr], Field(min_length=1, max_length=50)]
SnapshotFormats = Annotated[list[SnapshotFormat], Field(max_length=2)]
SnapshotBranches = Annotated[list[Identifier | Literal["*"]], Field(min_length=1, max_length=200)]


class SnapshotScheduleSet(EventPayload):
    """A tenant's snapshot e-mail: which reports, how often, to whom; replaces the
    schedule's previous settings. ``branches`` ``["*"]``: every branch."""

    event_type: ClassVar[str] = "snapshot_schedule.set"
    category: ClassVar[str] = "snapshot_schedule"

    snapshot_id: Identifier
    reports: SnapshotReports
    frequency: SnapshotFrequency
    formats: SnapshotFormats = Field(default_factory=list)
    recipients: SnapshotRecipients
    branches: SnapshotBranches = Field(default_factory=lambda: ["*"])
    enabled: bool = True

    def entity_id(self) -> str:
        return self.snapshot_id


class SnapshotScheduleRemoved(EventPayload):
    event_type: ClassVar[str] = "snapshot_schedule.removed"
    category: ClassVar[str] = "snapshot_schedule"

    snapshot_id: Identifier

    def entity_id(self) -> str:
        return self.snapshot_id


SnapshotWindow = Annotated[str, StringConstraints(pattern=r"^\d{4}-(W\d{2}|\d{2}(-\d{2})?)$")]


class SnapshotSent(EventPayload):
    """One snapshot e-mail accepted by the SMTP relay, for one schedule and window (the
    stream holds only this event: its existence is the "already sent" mark)."""

    event_type: ClassVar[str] = "snapshot.sent"
    category: ClassVar[str] = "snapshot"

    snapshot_id: Identifier
    window: SnapshotWindow
    reports: SnapshotReports
    attachments: Annotated[list[ShortText], Field(max_length=20)]
    recipients: int = Field(ge=1, le=50)

    def entity_id(self) -> str:
        return f"{self.snapshot_id}:{self.window}"


class SnapshotDeliveryFailed(EventPayload):
    """The relay still refused after the mailer's retries; a later run tries again. On
    its own stream, so that the sent mark's stream stays at version 0 until it is sent."""

    event_type: ClassVar[str] = "snapshot.delivery_failed"
    category: ClassVar[str] = "snapshot_failure"

    snapshot_id: Identifier
    window: SnapshotWindow
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]

    def entity_id(self) -> str:
        return f"{self.snapshot_id}:{self.window}"


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
    gclid: Gclid | None = None
    # Where the price came from: the branch's price list in force on this date.
    price_effective_from: date | None = None
    # The follow-up this booking answers, if any, and the appointment that scheduled it.
    follow_up_appointment_id: Identifier | None = None
    follow_up_id: Identifier | None = None


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


class AppointmentArrived(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.arrived"


class AppointmentCompleted(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.completed"


class AppointmentNoShow(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.no_show"


class AppointmentPaymentTaken(_AppointmentEvent):
    """A deposit or a payment towards the appointment, at the desk or the portal."""

    event_type: ClassVar[str] = "appointment.payment_taken"

    payment_id: Identifier
    kind: PaymentKind
    amount_minor: MinorUnits
    currency: CurrencyCode
    mode: PaymentMode
    provider: Literal["cash", "stripe", "razorpay", "console"]
    provider_reference: Reference | None = None


class AppointmentPaymentRefunded(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.payment_refunded"

    refund_id: Identifier
    payment_id: Identifier
    amount_minor: MinorUnits
    currency: CurrencyCode
    reason: ShortText


class DepositForfeited(_AppointmentEvent):
    """The part of the deposits kept under the tenant's cancellation policy; it can no
    longer be refunded. The policy applied is recorded with it."""

    event_type: ClassVar[str] = "appointment.deposit_forfeited"

    amount_minor: MinorUnits
    currency: CurrencyCode
    trigger: Literal["late_cancellation", "no_show"]
    hours_before_start: float
    policy_within_hours: int
    policy_percent: int


class FollowUpScheduled(_AppointmentEvent):
    event_type: ClassVar[str] = "appointment.follow_up_scheduled"

    follow_up_id: Identifier
    patient_id: Identifier
    due_on: date
    procedure_code: Identifier
    modality: Identifier
    clinician_id: Identifier | None = None


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


# Who took an invoice payment; ``zoho_books``: recorded in Zoho Books and synced from it.
InvoicePaymentProvider = Literal["cash", "stripe", "razorpay", "console", "zoho_books"]


class PaymentCaptured(_InvoiceEvent):
    event_type: ClassVar[str] = "payment.captured"

    payment_id: Identifier
    amount_minor: MinorUnits
    currency: CurrencyCode
    mode: PaymentMode
    provider: InvoicePaymentProvider
    provider_reference: Reference | None = None


CreditSource = Literal["console", "zoho_books", "refund"]


class CreditNoteIssued(_InvoiceEvent):
    """A credit note: part of what the invoice billed is no longer owed (a partial
    service, a goodwill discount, a refund the clinic does not claim back). Its reason,
    free text, travels only in the personal part, keyed by the invoice's patient."""

    event_type: ClassVar[str] = "invoice.credited"

    credit_note_id: Identifier
    amount_minor: MinorUnits
    currency: CurrencyCode
    source: CreditSource = "console"
    # The refund it goes with (a gateway refund under the tenant's billing policy).
    refund_id: Identifier | None = None


class RefundIssued(_InvoiceEvent):
    event_type: ClassVar[str] = "refund.issued"

    refund_id: Identifier
    payment_id: Identifier
    amount_minor: MinorUnits
    currency: CurrencyCode
    reason: ShortText


BillSource = Literal["crm_amount", "crm_records", "books"]


class BillAssigned(EventPayload):
    """The invoice that bills a visit, when an integration bills it (the CRM's amount,
    a CRM invoice, a Zoho Books invoice): a gateway payment that names only the
    appointment is applied to this invoice, so that one payment is never both prepaid
    on the visit and paid on its bill. One stream per appointment
    (``billing:{appointment_id}``); the first invoice assigned stays the bill."""

    event_type: ClassVar[str] = "billing.invoice_assigned"
    category: ClassVar[str] = "billing"

    appointment_id: Identifier
    invoice_id: Identifier
    source: BillSource

    def entity_id(self) -> str:
        return self.appointment_id


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


class _ScheduleBlockEvent(EventPayload):
    """A clinician's own time taken out of a day (leave, a meeting, a training)."""

    category: ClassVar[str] = "schedule"
    resource_kind: Literal["clinician"] = "clinician"
    resource_id: Identifier
    day: date
    block_id: Identifier

    def entity_id(self) -> str:
        return schedule_entity(self.resource_kind, self.resource_id, self.day)


class TimeBlocked(_ScheduleBlockEvent):
    event_type: ClassVar[str] = "schedule.time_blocked"

    start_at: AwareDatetime
    end_at: AwareDatetime


class TimeUnblocked(_ScheduleBlockEvent):
    event_type: ClassVar[str] = "schedule.time_unblocked"


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


ComplaintStatus = Literal["open", "resolved", "closed"]


class _ComplaintEvent(EventPayload):
    category: ClassVar[str] = "complaint"
    complaint_id: Identifier

    def entity_id(self) -> str:
        return self.complaint_id


class ComplaintRecorded(_ComplaintEvent):
    """A patient's complaint. Its text (which may reveal health data) travels only in
    the envelope's personal part (:class:`FreeTextPersonalData`)."""

    event_type: ClassVar[str] = "complaint.recorded"

    patient_id: Identifier | None = None
    appointment_id: Identifier | None = None
    complaint_category: Identifier


class ComplaintStatusChanged(_ComplaintEvent):
    """A complaint resolved, closed, or opened again."""

    event_type: ClassVar[str] = "complaint.status_changed"

    status: ComplaintStatus


class MarketingTouchRecorded(EventPayload):
    event_type: ClassVar[str] = "marketing.touch_recorded"
    category: ClassVar[str] = "marketing"

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


# --- integrations: Google Ads cost and clicks ----------------------------------------------
# One stream per ad account and day: ``ad_cost:{customer_id}:{day}`` and
# ``ad_clicks:{customer_id}:{day}`` (the day in the account's time zone). Google restates
# recent days, so a day is recorded again, as a new ``revision``, whenever its content
# changes: the latest revision replaces the earlier ones. A revision is split into
# ``parts`` events, appended together, so that each event stays well under the event
# store's document size limit (Firestore: 1 MiB).

AdsCustomerId = Annotated[str, StringConstraints(pattern=r"^\d{10}$")]
AdsId = Annotated[int, Field(ge=0, le=2**63 - 1)]
AdsName = Annotated[str, StringConstraints(max_length=255)]
AdsCount = Annotated[int, Field(ge=0, le=10**12)]
AdsMicros = Annotated[int, Field(ge=0, le=10**18)]
ContentHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ADS_ROWS_PER_EVENT = 1_000
ADS_MAX_PARTS = 20  # 20,000 rows a day; all parts of a revision go in one transaction


class AdCostRow(BaseModel):
    """A day's cost at exactly one grain, so that a day's rows add up to the account's
    total without double counting: a keyword (every id set); what an ad group spent
    beyond its keywords (``keyword_id`` None: dynamic search ads...); what a campaign
    spent beyond its ad groups (``ad_group_id`` None too: Performance Max...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    campaign_id: AdsId
    campaign_name: AdsName
    ad_group_id: AdsId | None = None
    ad_group_name: AdsName | None = None
    keyword_id: AdsId | None = None
    keyword_text: AdsName | None = None
    match_type: ShortText | None = None
    cost_micros: AdsMicros
    clicks: AdsCount
    impressions: AdsCount

    @model_validator(mode="after")
    def _keyword_in_ad_group(self) -> AdCostRow:
        if self.keyword_id is not None and self.ad_group_id is None:
            raise ValueError("a keyword row names its ad group")
        return self


class AdClick(BaseModel):
    """One paid click (``click_view``): the GCLID a booking's touch carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gclid: Gclid
    campaign_id: AdsId
    campaign_name: AdsName
    ad_group_id: AdsId | None = None
    ad_group_name: AdsName | None = None
    keyword_id: AdsId | None = None
    keyword_text: AdsName | None = None
    match_type: ShortText | None = None


class _AdDayEvent(EventPayload):
    customer_id: AdsCustomerId
    day: date
    time_zone: ShortText | None = None  # the account's: what ``day`` is a day of
    revision: int = Field(ge=1)
    part: int = Field(ge=1, le=ADS_MAX_PARTS)
    parts: int = Field(ge=1, le=ADS_MAX_PARTS)
    content_hash: ContentHash  # of the whole revision, the same in each of its parts

    @model_validator(mode="after")
    def _part_of_parts(self) -> _AdDayEvent:
        if self.part > self.parts:
            raise ValueError("part cannot exceed parts")
        return self

    def entity_id(self) -> str:
        return f"{self.customer_id}:{self.day.isoformat()}"


class AdCostRecorded(_AdDayEvent):
    event_type: ClassVar[str] = "marketing.ad_cost_recorded"
    category: ClassVar[str] = "ad_cost"

    currency: CurrencyCode  # the account's; cost stays in integer micros of it
    rows: list[AdCostRow] = Field(max_length=ADS_ROWS_PER_EVENT)


class AdClicksRecorded(_AdDayEvent):
    event_type: ClassVar[str] = "marketing.ad_clicks_recorded"
    category: ClassVar[str] = "ad_clicks"

    clicks: list[AdClick] = Field(max_length=ADS_ROWS_PER_EVENT)


# --- integrations: Zoho CRM ingestion bookkeeping ----------------------------------------
# One stream per CRM record (``zoho:{module}:{record_id}``) records which versions became
# canonical events or were quarantined; ``zoho_backfill:{module}`` and
# ``zoho_sync:{module}`` hold the resume points of the backfill and the delta sync.

ZohoModule = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")]
ZohoEntity = Literal[
    "patient",
    "appointment",
    "referral",
    "branch",
    "clinician",
    "room",
    "procedure",
    "referrer",
    "block",
    "invoice",
    "payment",
    "refund",
    "nps",
    "complaint",
]
QuarantineReason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class RawRecordPersonalData(BaseModel):
    """A CRM record as it arrived (field API name -> value). Raw CRM records hold
    health data, so they travel only in the envelope's personal part, with the full
    reason it was quarantined for (which may quote a value)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fields: dict[str, Any]
    detail: Annotated[str, StringConstraints(max_length=2000)] | None = None


class _ZohoRecordEvent(EventPayload):
    category: ClassVar[str] = "zoho"
    module: ZohoModule
    record_id: Identifier

    def entity_id(self) -> str:
        return f"{self.module}:{self.record_id}"


class ZohoRecordSynced(_ZohoRecordEvent):
    """This version of a CRM record became canonical events on ``target_stream``
    (possibly none, when it changed nothing the platform keeps)."""

    event_type: ClassVar[str] = "zoho.record_synced"

    modified_time: AwareDatetime
    entity: ZohoEntity
    target_stream: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    source: Literal["webhook", "delta", "backfill", "formula_refresh", "retry"]
    mapping_version: int = Field(ge=0)
    # The canonical id the record became (a lookup to this record resolves to it); None
    # in events written before it was recorded: then the id part of target_stream.
    became_id: Identifier | None = None
    # A digest of the version's canonical values: a formula field changes them without
    # moving Modified_Time, so two versions may share one Modified_Time.
    content_hash: ContentHash | None = None


class RecordQuarantined(_ZohoRecordEvent):
    """A record version that could not become events. The raw record is in the
    envelope's personal part; the reason names the problem, never a value."""

    event_type: ClassVar[str] = "integration.record_quarantined"

    source: Literal["zoho"] = "zoho"
    modified_time: AwareDatetime | None = None
    reason: QuarantineReason
    field: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    mapping_version: int | None = Field(default=None, ge=0)


class ZohoRecordParked(EventPayload):
    """A record version quarantined because it names what the platform does not know
    yet (its parent arrives later: a payment before its appointment, an appointment
    before its patient). It waits on ``zoho_parked:{waits_for}``; when a record becomes
    that parent, the versions parked there are ingested again (the raw record is in the
    quarantine event's personal part)."""

    event_type: ClassVar[str] = "zoho.record_parked"
    category: ClassVar[str] = "zoho_parked"

    waits_for: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    module: ZohoModule
    record_id: Identifier
    modified_time: AwareDatetime

    def entity_id(self) -> str:
        return self.waits_for


class ZohoBackfillProgressed(EventPayload):
    """How far the Bulk Read backfill of a module got: rows of ``page`` committed."""

    event_type: ClassVar[str] = "zoho.backfill_progressed"
    category: ClassVar[str] = "zoho_backfill"

    module: ZohoModule
    job_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    page: int = Field(ge=1)
    rows_committed: int = Field(ge=0)
    more_records: bool | None = None  # unknown until the job completed
    finished: bool = False
    total_rows: int | None = Field(default=None, ge=0)  # of this page, once known

    def entity_id(self) -> str:
        return self.module


class ZohoSyncWatermarkAdvanced(EventPayload):
    """Every record of the module modified up to ``modified_through`` was ingested."""

    event_type: ClassVar[str] = "zoho.sync_watermark_advanced"
    category: ClassVar[str] = "zoho_sync"

    module: ZohoModule
    modified_through: AwareDatetime
    records_seen: int = Field(default=0, ge=0)

    def entity_id(self) -> str:
        return self.module


# --- payment gateways (Stripe, Razorpay) -----------------------------------------------
# ``gateway:{provider}:{payment_ref}``: every fact a gateway reported about one payment
# (a PaymentIntent, or a bare charge, at Stripe; a payment at Razorpay), whether or not
# it could be applied to the appointment or invoice it names. ``payment.unmatched`` on
# the same stream flags a fact that was recorded but not applied: it needs review.
# ``settlement:{provider}:{settlement_ref}``: a payout of the gateway to the clinic's bank.

GatewayProvider = Literal["stripe", "razorpay"]
ProviderRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]
ReviewReason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class _GatewayEvent(EventPayload):
    """What every gateway fact carries: the provider's ids and the links we set in the
    payment's metadata (Stripe) or notes (Razorpay) when we initiated it."""

    category: ClassVar[str] = "gateway"
    provider: GatewayProvider
    payment_ref: Identifier
    provider_event_id: ProviderRef
    branch_id: Identifier | None = None
    appointment_id: Identifier | None = None
    invoice_id: Identifier | None = None
    payment_id: Identifier | None = None  # ours; the payment_ref when none was set
    # The appointment and invoice streams this fact was applied to (none: not applied).
    applied_to: list[str] = Field(default_factory=list, max_length=2)

    def entity_id(self) -> str:
        return f"{self.provider}:{self.payment_ref}"


class GatewayPaymentCaptured(_GatewayEvent):
    event_type: ClassVar[str] = "gateway.payment_captured"

    kind: PaymentKind = PaymentKind.PAYMENT
    amount_minor: MinorUnits
    currency: CurrencyCode
    # The gateway's fee and the tax on it, in the payment's currency, when it says.
    fee_minor: MinorUnits | None = None
    tax_minor: MinorUnits | None = None
    method: ShortText | None = None


class GatewayPaymentFailed(_GatewayEvent):
    event_type: ClassVar[str] = "gateway.payment_failed"

    amount_minor: MinorUnits
    currency: CurrencyCode
    failure_code: ShortText | None = None
    method: ShortText | None = None


class GatewayRefundRecorded(_GatewayEvent):
    event_type: ClassVar[str] = "gateway.refund_recorded"

    refund_ref: ProviderRef
    status: Literal["pending", "processed", "failed", "cancelled"]
    amount_minor: MinorUnits
    currency: CurrencyCode
    # Our refund id, from the metadata/notes we set when we asked the gateway to refund:
    # the gateway's refund of a refund we recorded already (matched, not applied again).
    refund_id: Identifier | None = None


class GatewayDisputeRecorded(_GatewayEvent):
    """A dispute (chargeback). A lost one reverses the payment: it is applied to the
    appointment and invoice as a refund whose id is the dispute's."""

    event_type: ClassVar[str] = "gateway.dispute_recorded"

    dispute_ref: ProviderRef
    phase: Literal["opened", "under_review", "won", "lost", "closed"]
    amount_minor: MinorUnits
    currency: CurrencyCode
    reason: ShortText | None = None


class PaymentUnmatched(_GatewayEvent):
    """A gateway fact that could not be applied (no link, an unknown appointment, a
    capture above the outstanding, a refund above the refundable...): recorded, never
    dropped, for someone to review. ``reason`` names the rule, not personal data."""

    event_type: ClassVar[str] = "payment.unmatched"

    fact_event_type: ShortText
    reason: ReviewReason
    target_stream: Annotated[str, StringConstraints(min_length=3, max_length=200)] | None = None
    amount_minor: MinorUnits | None = None
    currency: CurrencyCode | None = None


class SettlementRecorded(EventPayload):
    """A settlement (Razorpay) or payout (Stripe): ``amount_minor`` is what reached the
    bank, ``fee_minor`` and ``tax_minor`` what the gateway kept, when it says."""

    event_type: ClassVar[str] = "gateway.settlement_recorded"
    category: ClassVar[str] = "settlement"

    provider: GatewayProvider
    settlement_ref: ProviderRef
    provider_event_id: ProviderRef
    status: ShortText
    amount_minor: MinorUnits
    currency: CurrencyCode
    fee_minor: MinorUnits | None = None
    tax_minor: MinorUnits | None = None
    bank_reference: Reference | None = None  # the UTR at Razorpay
    settled_at: AwareDatetime | None = None
    # The gateway payment refs the settlement pays out, when known (reconciliation).
    payment_refs: list[ProviderRef] = Field(default_factory=list, max_length=10_000)

    def entity_id(self) -> str:
        return f"{self.provider}:{self.settlement_ref}"


SettlementItemKind = Literal["payment", "refund", "dispute", "adjustment", "other"]
SignedMinorUnits = Annotated[int, Field(ge=-(10**12), le=10**12)]


class SettlementItem(BaseModel):
    """One line of a settlement's detail: a payment it pays out, a refund or dispute it
    deducts, an adjustment. ``net_minor`` is what the line adds to the settlement
    (negative for deductions); ``fee_minor`` includes ``tax_minor``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SettlementItemKind
    item_ref: ProviderRef
    payment_ref: ProviderRef | None = None
    amount_minor: MinorUnits
    fee_minor: MinorUnits = 0
    tax_minor: MinorUnits = 0
    net_minor: SignedMinorUnits


class SettlementItemized(EventPayload):
    """The lines of a settlement, fetched from the gateway after it was recorded (the
    Razorpay settlement recon, the balance transactions of a Stripe payout): its webhook
    does not list what it pays out. On the settlement's own stream; a fetch that finds
    the same lines again appends nothing."""

    event_type: ClassVar[str] = "gateway.settlement_itemized"
    category: ClassVar[str] = "settlement"

    provider: GatewayProvider
    settlement_ref: ProviderRef
    source: Literal["razorpay_settlement_recon", "stripe_balance_transactions"]
    currency: CurrencyCode
    items: list[SettlementItem] = Field(max_length=10_000)

    def entity_id(self) -> str:
        return f"{self.provider}:{self.settlement_ref}"


class SettlementShared(EventPayload):
    """A tenant's part of a gateway settlement: the lines (or, before the settlement is
    itemized, the listed payments) of its own payments, found through the gateway index.
    Written in the clinic's tenant, on ``settlement:{provider}:{ref}``, by the split of
    the settlement recorded under the account's tenant (``account_tenant_id``); the
    account's own part also holds what no tenant's payment explains (``unmatched_*``: an
    unknown payment, an adjustment). ``withdrawn_*`` take back from the account's part
    lines found since to be another tenant's (their capture came late)."""

    event_type: ClassVar[str] = "gateway.settlement_shared"
    category: ClassVar[str] = "settlement"

    provider: GatewayProvider
    settlement_ref: ProviderRef
    account_tenant_id: Identifier
    status: ShortText
    currency: CurrencyCode
    settled_at: AwareDatetime
    bank_reference: Reference | None = None
    # Where its lines come from: the settlement's itemization, or the payments its
    # recording listed.
    source: Literal[
        "razorpay_settlement_recon", "stripe_balance_transactions", "settlement_listing"
    ] = "settlement_listing"
    items: list[SettlementItem] = Field(default_factory=list, max_length=10_000)
    payment_refs: list[ProviderRef] = Field(default_factory=list, max_length=10_000)
    unmatched_item_refs: list[ProviderRef] = Field(default_factory=list, max_length=10_000)
    unmatched_payment_refs: list[ProviderRef] = Field(default_factory=list, max_length=10_000)
    withdrawn_item_refs: list[ProviderRef] = Field(default_factory=list, max_length=10_000)
    withdrawn_payment_refs: list[ProviderRef] = Field(default_factory=list, max_length=10_000)

    def entity_id(self) -> str:
        return f"{self.provider}:{self.settlement_ref}"


class SettlementSplit(EventPayload):
    """Whom each line (``item:{item_ref}``) or listed payment (``payment:{payment_ref}``)
    of a settlement was given to, on the account's settlement stream once every share is
    written: ``assignments`` is the whole split as of then (``*`` for the account's
    unmatched part). A split that differs from the latest (a capture came late, a line
    fetched again) writes the differences as shares and a new split."""

    event_type: ClassVar[str] = "gateway.settlement_split"
    category: ClassVar[str] = "settlement"

    provider: GatewayProvider
    settlement_ref: ProviderRef
    assignments: dict[str, str] = Field(max_length=20_000)
    # A digest of each line as split (a line fetched again with other figures is sent
    # to its tenant again), and the payout's lines count and net over all of them.
    line_digests: dict[str, str] = Field(default_factory=dict, max_length=20_000)
    items_count: int | None = Field(default=None, ge=0)
    items_net_minor: SignedMinorUnits | None = None

    def entity_id(self) -> str:
        return f"{self.provider}:{self.settlement_ref}"


class SettlementAwaitsPayment(EventPayload):
    """A settlement pays out a payment no tenant is known for yet: kept, in the account's
    tenant, on ``settlement_awaits:{provider}:{payment_ref}``, so that the payment's
    first linked fact splits the settlement again."""

    event_type: ClassVar[str] = "gateway.settlement_awaits_payment"
    category: ClassVar[str] = "settlement_awaits"

    provider: GatewayProvider
    payment_ref: ProviderRef
    settlement_ref: ProviderRef

    def entity_id(self) -> str:
        return f"{self.provider}:{self.payment_ref}"


class GatewayPaymentIndexed(EventPayload):
    """Which tenant a gateway payment belongs to, kept in the payments tenant (the
    gateway account's) so that a later fact without our metadata (a Stripe refund or
    dispute) finds the tenant and the payment's links."""

    event_type: ClassVar[str] = "gateway.payment_indexed"
    category: ClassVar[str] = "gateway_index"

    provider: GatewayProvider
    payment_ref: Identifier
    tenant_id: Identifier

    def entity_id(self) -> str:
        return f"{self.provider}:{self.payment_ref}"


# --- alert rules and the alerts sent ---------------------------------------------------
# ``alert_rule:{rule_id}``: a tenant's rule, set (created or replaced) and removed.
# ``alert:{rule_id}:{window}``: what the alerts job sent for one rule and window (its
# last day); a subject already sent for it is never sent again.


class AlertRuleSet(EventPayload):
    event_type: ClassVar[str] = "alert_rule.set"
    category: ClassVar[str] = "alert_rule"

    rule: AlertRule

    def entity_id(self) -> str:
        return self.rule.rule_id


class AlertRuleRemoved(EventPayload):
    event_type: ClassVar[str] = "alert_rule.removed"
    category: ClassVar[str] = "alert_rule"

    rule_id: Identifier

    def entity_id(self) -> str:
        return self.rule_id


class _AlertEvent(EventPayload):
    category: ClassVar[str] = "alert"
    rule_id: Identifier
    window: date  # the window's last day

    def entity_id(self) -> str:
        return f"{self.rule_id}:{self.window.isoformat()}"


class AlertSent(_AlertEvent):
    event_type: ClassVar[str] = "alert.sent"

    firings: Annotated[list[Firing], Field(min_length=1, max_length=1000)]
    recipients: int = Field(ge=1, le=20)


class AlertDeliveryFailed(_AlertEvent):
    """The e-mail could not be sent after the mailer's retries; the next run tries
    again. The reason is the SMTP reply, never the body. On its own stream
    (``alert_failure:{rule_id}:{window}``), so that the sent stream holds only what was
    sent."""

    event_type: ClassVar[str] = "alert.delivery_failed"
    category: ClassVar[str] = "alert_failure"

    reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    attempts: int = Field(ge=1, le=100)
    subjects: int = Field(ge=1, le=1000)


CATALOGUE: dict[str, type[EventPayload]] = {
    model.event_type: model
    for model in (
        BranchRegistered,
        ClinicianRegistered,
        ClinicianTimeBlocked,
        ClinicianTimeUnblocked,
        RoomRegistered,
        PriceListUpdated,
        CancellationPolicySet,
        BillingPolicySet,
        ProcedureRegistered,
        ReferrerRegistered,
        PatientRegistered,
        AppointmentBooked,
        AppointmentRescheduled,
        AppointmentCancelled,
        AppointmentArrived,
        AppointmentCompleted,
        AppointmentNoShow,
        AppointmentPaymentTaken,
        AppointmentPaymentRefunded,
        DepositForfeited,
        FollowUpScheduled,
        InvoiceIssued,
        PaymentCaptured,
        RefundIssued,
        CreditNoteIssued,
        BillAssigned,
        SlotReserved,
        SlotReleased,
        TimeBlocked,
        TimeUnblocked,
        ReferralReceived,
        NpsResponseRecorded,
        MarketingTouchRecorded,
        ComplaintRecorded,
        ComplaintStatusChanged,
        AdCostRecorded,
        AdClicksRecorded,
        ZohoRecordSynced,
        RecordQuarantined,
        ZohoRecordParked,
        ZohoBackfillProgressed,
        ZohoSyncWatermarkAdvanced,
        GatewayPaymentCaptured,
        GatewayPaymentFailed,
        GatewayRefundRecorded,
        GatewayDisputeRecorded,
        PaymentUnmatched,
        SettlementRecorded,
        SettlementItemized,
        GatewayPaymentIndexed,
        SettlementShared,
        SettlementSplit,
        SettlementAwaitsPayment,
        AlertRuleSet,
        AlertRuleRemoved,
        AlertSent,
        AlertDeliveryFailed,
        SnapshotScheduleSet,
        SnapshotScheduleRemoved,
        SnapshotSent,
        SnapshotDeliveryFailed,
    )
}

PERSONAL_DATA_MODELS: dict[str, type[BaseModel]] = {
    PatientRegistered.event_type: PatientPersonalData,
    NpsResponseRecorded.event_type: FreeTextPersonalData,
    RecordQuarantined.event_type: RawRecordPersonalData,
    ComplaintRecorded.event_type: FreeTextPersonalData,
    CreditNoteIssued.event_type: FreeTextPersonalData,
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
