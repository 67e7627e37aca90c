"""The canonical fields a Zoho mapping may feed, per entity: how each is read from Zoho
and what a valid value is. Part of :mod:`mymedic.integrations.zoho.mapping`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from mymedic.domain.events import Gclid, PatientPersonalData, ShortText
from mymedic.domain.types import (
    AppointmentStatus,
    AwareDatetime,
    CurrencyCode,
    Identifier,
    MinorUnits,
    ReferrerType,
)
from mymedic.integrations.zoho.records import Entity

Kind = Literal["id", "text", "choice", "datetime", "date", "int", "money"]
# Value maps translate picklist values into canonical text: they apply to these kinds.
MAPPABLE_KINDS = frozenset({"id", "text", "choice"})


@dataclass(frozen=True)
class CanonicalField:
    kind: Kind  # how a Zoho value is read
    adapter: TypeAdapter[Any] | None  # the canonical constraint (None: personal data)
    needed: bool = False  # the entity's events cannot be built without it
    personal: bool = False
    choices: tuple[str, ...] = ()
    cut_at: int | None = None  # free text longer than this is shortened


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
_IDENTIFIER = CanonicalField("id", _ID)
_NEEDED_ID = CanonicalField("id", _ID, needed=True)
_PERSONAL_TEXT = CanonicalField("text", None, personal=True)
SEXES = ("female", "male", "other", "unknown")

CANONICAL: dict[Entity, dict[str, CanonicalField]] = {
    "patient": {
        "patient_id": _NEEDED_ID,
        "branch_id": _NEEDED_ID,
        "sex": _choice(SEXES),
        "full_name": CanonicalField("text", None, needed=True, personal=True),
        "phone": _PERSONAL_TEXT,
        "email": _PERSONAL_TEXT,
        "date_of_birth": CanonicalField("date", None, personal=True),
        "postcode": _PERSONAL_TEXT,
    },
    "appointment": {
        "appointment_id": _NEEDED_ID,
        "branch_id": _NEEDED_ID,
        "patient_id": _NEEDED_ID,
        "clinician_id": _NEEDED_ID,
        "room_id": _NEEDED_ID,
        "modality": _NEEDED_ID,
        "procedure_code": _NEEDED_ID,
        "start_at": CanonicalField("datetime", TypeAdapter(AwareDatetime), needed=True),
        "duration_minutes": CanonicalField(
            "int", TypeAdapter(Annotated[int, Field(ge=5, le=720)]), needed=True
        ),
        "status": _choice([status.value for status in AppointmentStatus], needed=True),
        "price_minor": CanonicalField("money", TypeAdapter(MinorUnits), needed=True),
        "currency": CanonicalField("text", TypeAdapter(CurrencyCode), needed=True),
        "referral_id": _IDENTIFIER,
        "gclid": CanonicalField("text", TypeAdapter(Gclid)),
        "cancel_reason": CanonicalField("text", TypeAdapter(ShortText), cut_at=200),
    },
    "referral": {
        "referral_id": _NEEDED_ID,
        "branch_id": _NEEDED_ID,
        "patient_id": _NEEDED_ID,
        "referrer_id": _NEEDED_ID,
        "referrer_type": _choice([kind.value for kind in ReferrerType], needed=True),
    },
}
# Canonical id fields that name another entity, which a Zoho lookup usually feeds.
REFERENCES: dict[str, Entity] = {"patient_id": "patient", "referral_id": "referral"}
# A module that maps no field to its entity id gives its records ``zoho-<record id>``.
ID_PREFIX = "zoho-"


def entity_id_field(entity: Entity) -> str:
    return f"{entity}_id"


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
        probe = {"full_name": "Placeholder", name: value}
        return getattr(PatientPersonalData.model_validate(probe), name)
    except ValidationError as exc:
        raise ValueError(first_error(exc)) from None
