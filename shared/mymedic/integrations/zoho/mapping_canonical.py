"""The canonical fields a Zoho mapping may feed, per entity: how each is read from Zoho
and what a valid value is. Part of :mod:`mymedic.integrations.zoho.mapping`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, ValidationError

from mymedic.domain.events import (
    ComplaintStatus,
    FreeTextPersonalData,
    Gclid,
    PatientPersonalData,
    ShortText,
    TimeZoneName,
    WorkingHours,
)
from mymedic.domain.types import (
    AppointmentStatus,
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
from mymedic.integrations.zoho.records import Entity

Kind = Literal[
    "id", "text", "choice", "choices", "datetime", "date", "int", "money", "hours", "timezone"
]
# Value maps translate picklist values into canonical text: they apply to these kinds
# (for "choices", a multi-select picklist, to each value).
MAPPABLE_KINDS = frozenset({"id", "text", "choice", "choices", "timezone"})
# Zoho's own creation time, requested with every record (like Modified_Time).
CREATED_TIME = "Created_Time"


@dataclass(frozen=True)
class CanonicalField:
    kind: Kind  # how a Zoho value is read
    adapter: TypeAdapter[Any] | None  # the canonical constraint (None: personal data)
    needed: bool = False  # the entity's events cannot be built without it
    personal: bool = False
    choices: tuple[str, ...] = ()
    cut_at: int | None = None  # free text longer than this is shortened
    # The entity an id field names: a Zoho lookup feeding it is resolved to that
    # entity's id (see ``lookups`` in the mapping).
    references: Entity | None = None
    # The Zoho field that feeds it when the mapping names none.
    zoho_default: str | None = None
    # Read from the entity this canonical reference names, when the record has no value
    # and that entity is mapped too (an appointment's modality from its procedure): then
    # it is needed only when the tenant does not map that entity.
    derived_via: str | None = None


def _one_of(values: tuple[str, ...]) -> TypeAdapter[Any]:
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"should be one of {', '.join(values)}")
        return value

    return TypeAdapter(Annotated[str, AfterValidator(check)])


def _choice(values: Sequence[str], *, needed: bool = False) -> CanonicalField:
    choices = tuple(values)
    return CanonicalField("choice", _one_of(choices), needed=needed, choices=choices)


_ID = TypeAdapter(Identifier)
_IDS = TypeAdapter(Annotated[list[Identifier], Field(min_length=1, max_length=50)])
_OPTIONAL_IDS = TypeAdapter(Annotated[list[Identifier], Field(max_length=50)])
_IDENTIFIER = CanonicalField("id", _ID)
_NEEDED_ID = CanonicalField("id", _ID, needed=True)
_TEXT = CanonicalField("text", TypeAdapter(ShortText))
_NEEDED_TEXT = CanonicalField("text", TypeAdapter(ShortText), needed=True)
_PERSONAL_TEXT = CanonicalField("text", None, personal=True)
_MONEY = CanonicalField("money", TypeAdapter(MinorUnits))
_NEEDED_MONEY = CanonicalField("money", TypeAdapter(MinorUnits), needed=True)
_CURRENCY = CanonicalField("text", TypeAdapter(CurrencyCode), needed=True)
_WHEN = CanonicalField("datetime", TypeAdapter(AwareDatetime))
_DURATION = TypeAdapter(Annotated[int, Field(ge=5, le=720)])
_DATE = TypeAdapter(date)
_HOURS = TypeAdapter(Annotated[list[WorkingHours], Field(min_length=1, max_length=50)])
# When the record came into being: Zoho's Created_Time unless the mapping names a field.
_CREATED = CanonicalField(
    "datetime", TypeAdapter(AwareDatetime), needed=True, zoho_default=CREATED_TIME
)
_COMMENT = CanonicalField("text", None, personal=True, cut_at=2000)


def _ref(entity: Entity, *, needed: bool = False) -> CanonicalField:
    return CanonicalField("id", _ID, needed=needed, references=entity)


SEXES = ("female", "male", "other", "unknown")
PAYMENT_STATUSES = ("unpaid", "partially_paid", "paid")
INVOICE_STATUSES = ("issued", "void")
BLOCK_STATUSES = ("active", "cancelled")
COMPLAINT_STATUSES: tuple[str, ...] = ComplaintStatus.__args__  # type: ignore[attr-defined]

CANONICAL: dict[Entity, dict[str, CanonicalField]] = {
    # --- the directory -----------------------------------------------------------------
    "branch": {
        "branch_id": _NEEDED_ID,
        "display_name": _NEEDED_TEXT,
        "city": _NEEDED_TEXT,
        "timezone": CanonicalField("timezone", TypeAdapter(TimeZoneName), needed=True),
        "currency": _CURRENCY,
    },
    "clinician": {
        "clinician_id": _NEEDED_ID,
        "branch_id": _ref("branch", needed=True),
        "display_name": _NEEDED_TEXT,
        "modalities": CanonicalField("choices", _IDS, needed=True),
        "working_hours": CanonicalField("hours", _HOURS, needed=True),
    },
    "room": {
        "room_id": _NEEDED_ID,
        "branch_id": _ref("branch", needed=True),
        "display_name": _NEEDED_TEXT,
        "modalities": CanonicalField("choices", _IDS, needed=True),
        "equipment": CanonicalField("choices", _OPTIONAL_IDS),
    },
    "procedure": {
        "procedure_code": _NEEDED_ID,
        "display_name": _TEXT,
        "modality": _NEEDED_ID,
        "duration_minutes": CanonicalField("int", _DURATION, needed=True),
        "price_minor": _MONEY,
        "currency": CanonicalField("text", TypeAdapter(CurrencyCode)),
        "effective_from": CanonicalField("date", _DATE),
    },
    "referrer": {
        "referrer_id": _NEEDED_ID,
        "referrer_type": _choice([kind.value for kind in ReferrerType], needed=True),
    },
    "block": {
        "block_id": _NEEDED_ID,
        "clinician_id": _ref("clinician", needed=True),
        "start_at": CanonicalField("datetime", TypeAdapter(AwareDatetime), needed=True),
        "end_at": CanonicalField("datetime", TypeAdapter(AwareDatetime), needed=True),
        "reason": _TEXT,
        "status": _choice(BLOCK_STATUSES),
    },
    # --- patients and their visits -----------------------------------------------------
    "patient": {
        "patient_id": _NEEDED_ID,
        "branch_id": _ref("branch", needed=True),
        "sex": _choice(SEXES),
        "created_at": _CREATED,
        "full_name": CanonicalField("text", None, needed=True, personal=True),
        "phone": _PERSONAL_TEXT,
        "email": _PERSONAL_TEXT,
        "date_of_birth": CanonicalField("date", None, personal=True),
        "postcode": _PERSONAL_TEXT,
    },
    "referral": {
        "referral_id": _NEEDED_ID,
        "branch_id": _ref("branch", needed=True),
        "patient_id": _ref("patient", needed=True),
        "referrer_id": _ref("referrer", needed=True),
        "referrer_type": CanonicalField(
            "choice",
            _one_of(tuple(kind.value for kind in ReferrerType)),
            needed=True,
            choices=tuple(kind.value for kind in ReferrerType),
            derived_via="referrer_id",
        ),
        "created_at": _CREATED,
    },
    "appointment": {
        "appointment_id": _NEEDED_ID,
        "branch_id": _ref("branch", needed=True),
        "patient_id": _ref("patient", needed=True),
        "clinician_id": _ref("clinician", needed=True),
        "room_id": _ref("room", needed=True),
        "procedure_code": _ref("procedure", needed=True),
        "modality": CanonicalField("id", _ID, needed=True, derived_via="procedure_code"),
        "start_at": CanonicalField("datetime", TypeAdapter(AwareDatetime), needed=True),
        "duration_minutes": CanonicalField(
            "int", _DURATION, needed=True, derived_via="procedure_code"
        ),
        "status": _choice([status.value for status in AppointmentStatus], needed=True),
        "price_minor": _NEEDED_MONEY,
        "currency": _CURRENCY,
        "created_at": _CREATED,
        # When the status last changed (else the version's Modified_Time).
        "status_changed_at": _WHEN,
        "channel": _choice([channel.value for channel in Channel]),
        "referral_id": _ref("referral"),
        "gclid": CanonicalField("text", TypeAdapter(Gclid)),
        "cancel_reason": CanonicalField("text", TypeAdapter(ShortText), cut_at=200),
        # Billing in the CRM (billing = "crm_amount"): who pays, and what was paid.
        "payer_type": _choice([payer.value for payer in PayerType]),
        "paid_minor": _MONEY,
        "payment_status": _choice(PAYMENT_STATUSES),
        "payment_mode": _choice([mode.value for mode in PaymentMode]),
        # The gateway's payment id, when the CRM keeps it: that gateway payment is then
        # recognised as the one the CRM recorded, whichever arrives first.
        "payment_reference": CanonicalField("text", TypeAdapter(ShortText)),
    },
    # --- money kept as CRM records (billing = "crm_records") ----------------------------
    "invoice": {
        "invoice_id": _NEEDED_ID,
        "appointment_id": _ref("appointment", needed=True),
        "payer_type": _choice([payer.value for payer in PayerType], needed=True),
        "amount_minor": _NEEDED_MONEY,
        "currency": _CURRENCY,
        "due_on": CanonicalField("date", _DATE, needed=True),
        "created_at": _CREATED,
        "status": _choice(INVOICE_STATUSES),
    },
    "payment": {
        "payment_id": _NEEDED_ID,
        "appointment_id": _ref("appointment"),
        "invoice_id": _ref("invoice"),
        "kind": _choice([kind.value for kind in PaymentKind]),
        "amount_minor": _NEEDED_MONEY,
        "currency": _CURRENCY,
        "mode": _choice([mode.value for mode in PaymentMode], needed=True),
        "provider": _choice(("cash", "stripe", "razorpay", "console")),
        "provider_reference": CanonicalField("text", TypeAdapter(ShortText)),
        "created_at": _CREATED,
    },
    "refund": {
        "refund_id": _NEEDED_ID,
        "payment_id": _ref("payment", needed=True),
        # Where the payment is, when the payment is not a lookup to the payments module.
        "appointment_id": _ref("appointment"),
        "invoice_id": _ref("invoice"),
        "amount_minor": _NEEDED_MONEY,
        "currency": _CURRENCY,
        "reason": CanonicalField("text", TypeAdapter(ShortText), cut_at=200),
        "created_at": _CREATED,
    },
    # --- feedback ----------------------------------------------------------------------
    "nps": {
        "response_id": _NEEDED_ID,
        "patient_id": _ref("patient", needed=True),
        "appointment_id": _ref("appointment"),
        "branch_id": _ref("branch"),
        "score": CanonicalField("int", TypeAdapter(Annotated[int, Field(ge=0, le=10)]), True),
        "created_at": _CREATED,
        "comment": _COMMENT,
    },
    "complaint": {
        "complaint_id": _NEEDED_ID,
        "patient_id": _ref("patient"),
        "appointment_id": _ref("appointment"),
        "branch_id": _ref("branch"),
        "complaint_category": _NEEDED_ID,
        "status": _choice(COMPLAINT_STATUSES),
        "created_at": _CREATED,
        "comment": _COMMENT,
    },
}
# The personal part each entity's personal fields form (checked as one).
PERSONAL_MODELS: dict[Entity, type[BaseModel]] = {
    "patient": PatientPersonalData,
    "nps": FreeTextPersonalData,
    "complaint": FreeTextPersonalData,
}
# Canonical fields with a meaning only under one way of billing (see ``billing``).
CRM_AMOUNT_FIELDS = frozenset(
    {"payer_type", "paid_minor", "payment_status", "payment_mode", "payment_reference"}
)
MONEY_ENTITIES: frozenset[Entity] = frozenset({"invoice", "payment", "refund"})
# A module that maps no field to its entity id gives its records ``zoho-<record id>``.
ID_PREFIX = "zoho-"
# Canonical id fields that name another entity, which a Zoho lookup usually feeds.
REFERENCES: dict[str, Entity] = {
    name: spec.references
    for fields in CANONICAL.values()
    for name, spec in fields.items()
    if spec.references is not None
}


def entity_id_field(entity: Entity) -> str:
    """The canonical field holding the entity's own id."""
    return _OWN_ID.get(entity, f"{entity}_id")


_OWN_ID: dict[Entity, str] = {
    "procedure": "procedure_code",
    "nps": "response_id",
}


def error_message(error: Mapping[str, Any]) -> str:
    """One pydantic error's message, without pydantic's ``Value error, `` prefix."""
    return str(error["msg"]).removeprefix("Value error, ")


def first_error(exc: ValidationError) -> str:
    return error_message(exc.errors()[0])


def check_canonical(entity: Entity, name: str, value: Any) -> Any:
    """``value`` as a valid canonical value of ``name``; ValueError if it is not one."""
    spec = CANONICAL[entity][name]
    try:
        if spec.adapter is not None:
            return spec.adapter.validate_python(value)
        model = PERSONAL_MODELS[entity]
        probe = {"full_name": "Placeholder"} if model is PatientPersonalData else {}
        return getattr(model.model_validate({**probe, name: value}), name)
    except ValidationError as exc:
        raise ValueError(first_error(exc)) from None
