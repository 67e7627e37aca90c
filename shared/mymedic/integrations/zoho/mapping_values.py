"""Reading Zoho values in canonical terms: lookups, picklists, dates, money; one field
at a time and then one record's fields. Part of :mod:`mymedic.integrations.zoho.mapping`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from mymedic.domain.events import PatientPersonalData
from mymedic.integrations.zoho.mapping_canonical import (
    CANONICAL,
    ID_PREFIX,
    Kind,
    check_canonical,
    entity_id_field,
    first_error,
)
from mymedic.integrations.zoho.mapping_model import RECORD_ID_FIELDS, ModuleMapping, TenantMapping
from mymedic.integrations.zoho.records import Entity

RejectKind = Literal[
    "unknown module",
    "missing required field",
    "unparsable value",
    "unmapped picklist value",
    "invalid value",
]


@dataclass(frozen=True)
class Reject:
    kind: RejectKind
    reason: str
    field: str | None = None  # the canonical field


class Rejected(Exception):
    """Internal: why one field cannot be read; never escapes the mapping package."""

    def __init__(self, kind: RejectKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


Plain = str | int | float | Decimal | datetime | date


def plain_value(raw: Any) -> Plain | None:
    """A REST or CSV value made plain: a lookup becomes its id, blank text None,
    booleans the text Zoho's CSV writes."""
    if isinstance(raw, Mapping):
        if "id" not in raw:
            raise Rejected("unparsable value", "an object without an id")
        raw = raw["id"]
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return raw.strip() or None
    if isinstance(raw, int | float | Decimal | datetime | date):
        return raw
    if isinstance(raw, list | tuple) and not raw:
        return None
    raise Rejected("unparsable value", f"a {type(raw).__name__} where one value is expected")


def plain_text(value: Plain) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _as_text(value: Plain, zone: ZoneInfo) -> str:
    return plain_text(value)


def _as_datetime(value: Plain, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise ValueError("not a date-time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _as_date(value: Plain, zone: ZoneInfo) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    return _as_datetime(value, zone).astimezone(zone).date()


def _as_decimal(value: Plain) -> Decimal:
    if isinstance(value, datetime | date):
        raise ValueError("not a number")
    try:
        # str() of a float is its shortest exact repr (8500.0, 85.1): no binary noise.
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _as_int(value: Plain, zone: ZoneInfo) -> int:
    number = _as_decimal(value)
    if number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


def _as_minor_units(value: Plain, zone: ZoneInfo) -> int:
    minor = _as_decimal(value) * 100
    if minor != minor.to_integral_value():
        raise ValueError("has more than two decimal places")
    return int(minor)


_READERS: dict[Kind, Callable[[Plain, ZoneInfo], Any]] = {
    "id": _as_text,
    "text": _as_text,
    "choice": _as_text,
    "datetime": _as_datetime,
    "date": _as_date,
    "int": _as_int,
    "money": _as_minor_units,
}
_KIND_NAMES: dict[Kind, str] = {
    "datetime": "a date-time",
    "date": "a date",
    "int": "a whole number",
    "money": "an amount",
}


def _read(
    module: ModuleMapping, zoho: str, name: str, raw: Any, zone: ZoneInfo
) -> Any:  # the canonical value, or None when the record has none
    spec = CANONICAL[module.entity][name]
    value = plain_value(raw)
    if value is None:
        return None
    value_map = module.value_maps.get(name)
    if value_map is not None:
        key = plain_text(value)
        if key not in value_map:
            raise Rejected(
                "unmapped picklist value",
                f"{zoho}: picklist value {key!r} has no entry in value_maps.{name}",
            )
        value = value_map[key]
    try:
        read = _READERS[spec.kind](value, zone)
    except ValueError as exc:
        what = _KIND_NAMES.get(spec.kind, "text")
        raise Rejected(
            "unparsable value", f"{zoho}: cannot read {value!r} as {what} ({exc})"
        ) from None
    if spec.cut_at is not None and isinstance(read, str) and len(read) > spec.cut_at:
        read = read[: spec.cut_at - 1] + "\u2026"
    if spec.personal:
        return read  # checked with the whole personal part
    try:
        return check_canonical(module.entity, name, read)
    except ValueError as exc:
        raise Rejected("invalid value", f"{zoho}: {read!r} is not a valid {name}: {exc}") from None


@dataclass(frozen=True)
class Mapped:
    entity: Entity
    values: dict[str, Any]
    personal: dict[str, Any]


def map_fields(
    mapping: TenantMapping, module: str, record_id: str, fields: Mapping[str, Any]
) -> Mapped | Reject:
    """The canonical values of one record's fields, or why there are none."""
    spec = mapping.modules.get(module)
    if spec is None:
        return Reject("unknown module", mapping.not_mapped(module))
    entity = spec.entity
    canon = CANONICAL[entity]
    zone = mapping.zone
    found: dict[str, Any] = {}
    for zoho, name in spec.fields.items():
        raw = record_id if zoho in RECORD_ID_FIELDS else fields.get(zoho)
        try:
            value = _read(spec, zoho, name, raw, zone)
        except Rejected as rejected:
            return Reject(rejected.kind, rejected.reason, name)
        if value is not None:
            found[name] = value
    own = entity_id_field(entity)
    if own not in spec.fields.values():
        try:
            found[own] = check_canonical(entity, own, ID_PREFIX + record_id)
        except ValueError as exc:
            return Reject("invalid value", f"record id {record_id!r} makes no {own}: {exc}", own)
    for name, default in spec.defaults.items():
        found.setdefault(name, default)
    wanted = [*spec.required, *(name for name, field in canon.items() if field.needed)]
    for name in wanted:
        if name not in found:
            source = spec.source_of(name)
            where = f" (Zoho field {source})" if source else ""
            return Reject("missing required field", f"{name}{where} is missing or empty", name)
    values = {name: found.get(name) for name, field in canon.items() if not field.personal}
    personal = {
        name: found[name] for name, field in canon.items() if field.personal and name in found
    }
    if personal:
        try:
            checked = PatientPersonalData.model_validate(personal)
        except ValidationError as exc:
            name = str(exc.errors()[0]["loc"][0])
            return Reject(
                "invalid value",
                f"{spec.source_of(name) or name}: not a valid {name}: {first_error(exc)}",
                name,
            )
        personal = checked.model_dump()
    return Mapped(entity, values, personal)
