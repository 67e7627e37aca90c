"""Reading Zoho values in canonical terms: lookups, picklists (single and multi-select),
dates, money, working hours; one field at a time and then one record's fields. Part of
:mod:`mymedic.integrations.zoho.mapping`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from mymedic.integrations.zoho.mapping_canonical import (
    CANONICAL,
    ID_PREFIX,
    PERSONAL_MODELS,
    Kind,
    check_canonical,
    entity_id_field,
    first_error,
)
from mymedic.integrations.zoho.mapping_model import (
    RECORD_ID_FIELDS,
    ModuleMapping,
    TenantMapping,
)
from mymedic.integrations.zoho.records import Entity

RejectKind = Literal[
    "unknown module",
    "missing required field",
    "unparsable value",
    "unmapped picklist value",
    "invalid value",
    "unknown reference",
]


@dataclass(frozen=True)
class Reject:
    kind: RejectKind
    reason: str
    field: str | None = None  # the canonical field


@dataclass(frozen=True)
class Ignored:
    """A record that is not this entity's (``ignore_without``): skipped, not an error."""

    field: str


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


def plain_values(raw: Any) -> list[Plain]:
    """A multi-select picklist: a JSON list from REST, ``a;b`` text from a Bulk Read CSV."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        items = [plain_value(item) for item in raw]
    elif isinstance(raw, str):
        items = [plain_value(part) for part in raw.split(";")]
    else:
        items = [plain_value(raw)]
    return [item for item in items if item is not None]


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


_DAYS = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_GROUP = re.compile(r"^\s*(?P<days>[A-Za-z ,\-]+?)\s+(?P<times>\d.*)$")
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _weekdays(text: str) -> list[int]:
    found: list[int] = []
    for part in text.split(","):
        ends = [piece.strip().lower() for piece in part.split("-")]
        if len(ends) > 2 or not all(end in _DAYS for end in ends):
            raise ValueError(f"{part.strip()!r} is not a day or a range of days (Mon-Sat)")
        first, last = _DAYS[ends[0]], _DAYS[ends[-1]]
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        found += [day for day in span if day not in found]
    return found


def _as_hours(value: Plain, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Weekly working hours written as text: ``Mon-Sat 08:00-19:00``, several groups
    separated by ``;`` (``Mon-Fri 09:00-13:00, 14:00-18:00; Sat 09:00-13:00``)."""
    hours: list[dict[str, Any]] = []
    for group in re.split(r"[;\n]", plain_text(value)):
        if not group.strip():
            continue
        match = _GROUP.match(group)
        if match is None:
            raise ValueError(f"{group.strip()!r} is not 'days hh:mm-hh:mm'")
        days = _weekdays(match["days"])
        for interval in match["times"].split(","):
            times = _INTERVAL.match(interval)
            if times is None:
                raise ValueError(f"{interval.strip()!r} is not hh:mm-hh:mm")
            start = time(int(times[1]), int(times[2]))
            end = time(int(times[3]), int(times[4]))
            hours += [{"weekday": day, "start": start, "end": end} for day in days]
    if not hours:
        raise ValueError("no working hours")
    return hours


_READERS: dict[Kind, Callable[[Plain, ZoneInfo], Any]] = {
    "id": _as_text,
    "text": _as_text,
    "choice": _as_text,
    "choices": _as_text,
    "timezone": _as_text,
    "datetime": _as_datetime,
    "date": _as_date,
    "int": _as_int,
    "money": _as_minor_units,
    "hours": _as_hours,
}
_KIND_NAMES: dict[Kind, str] = {
    "datetime": "a date-time",
    "date": "a date",
    "int": "a whole number",
    "money": "an amount",
    "hours": "working hours",
}


def _mapped_value(value_map: Mapping[str, str] | None, zoho: str, name: str, value: Plain) -> Plain:
    if value_map is None:
        return value
    key = plain_text(value)
    if key not in value_map:
        raise Rejected(
            "unmapped picklist value",
            f"{zoho}: picklist value {key!r} has no entry in value_maps.{name}",
        )
    return value_map[key]


def _convert(kind: Kind, zoho: str, value: Plain, zone: ZoneInfo) -> Any:
    try:
        return _READERS[kind](value, zone)
    except ValueError as exc:
        what = _KIND_NAMES.get(kind, "text")
        raise Rejected(
            "unparsable value", f"{zoho}: cannot read {value!r} as {what} ({exc})"
        ) from None


def _value_map(mapping: TenantMapping, module: ModuleMapping, name: str) -> dict[str, str] | None:
    """The field's value map: the module's, or for a branch the ``[branches]`` picklist
    (a value already a branch id passes as it is)."""
    found = module.value_maps.get(name)
    if found is not None:
        return found
    spec = CANONICAL[module.entity][name]
    if mapping.branches and (spec.references == "branch" or name == "branch_id"):
        picklist = mapping.branch_picklist()
        return {**{branch: branch for branch in picklist.values()}, **picklist}
    return None


def _read(
    mapping: TenantMapping, module: ModuleMapping, zoho: str, name: str, raw: Any
) -> Any:  # the canonical value, or None when the record has none
    spec = CANONICAL[module.entity][name]
    zone = mapping.zone
    value_map = _value_map(mapping, module, name)
    if spec.kind == "choices":
        values = [_mapped_value(value_map, zoho, name, item) for item in plain_values(raw)]
        if not values:
            return None
        read: Any = [_convert("text", zoho, item, zone) for item in values]
    else:
        value = plain_value(raw)
        if value is None:
            return None
        value = _mapped_value(value_map, zoho, name, value)
        read = _convert(spec.kind, zoho, value, zone)
    if spec.cut_at is not None and isinstance(read, str) and len(read) > spec.cut_at:
        read = read[: spec.cut_at - 1] + "\u2026"
    if spec.personal:
        return read  # checked with the whole personal part
    try:
        return check_canonical(module.entity, name, read)
    except ValueError as exc:
        shown = read if spec.kind != "hours" else plain_text(plain_value(raw) or "")
        raise Rejected("invalid value", f"{zoho}: {shown!r} is not a valid {name}: {exc}") from None


@dataclass(frozen=True)
class Mapped:
    entity: Entity
    values: dict[str, Any]
    personal: dict[str, Any]
    lookups: dict[str, tuple[str, str]] = field(default_factory=dict)


def map_fields(
    mapping: TenantMapping, module: str, record_id: str, fields: Mapping[str, Any]
) -> Mapped | Reject | Ignored:
    """The canonical values of one record's fields, or why there are none."""
    spec = mapping.modules.get(module)
    if spec is None:
        return Reject("unknown module", mapping.not_mapped(module))
    entity = spec.entity
    canon = CANONICAL[entity]
    found: dict[str, Any] = {}
    lookups: dict[str, tuple[str, str]] = {}
    for zoho, name in spec.canonical_sources().items():
        raw = record_id if zoho in RECORD_ID_FIELDS else fields.get(zoho)
        try:
            target = spec.lookups.get(zoho)
            if target is not None:
                looked_up = plain_value(raw)
                if looked_up is not None:
                    lookups[name] = (target, plain_text(looked_up))
                continue
            value = _read(mapping, spec, zoho, name, raw)
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
    for name in spec.ignore_without:
        if name not in found and name not in lookups:
            return Ignored(name)
    for name, default in spec.defaults.items():
        if name not in lookups:
            found.setdefault(name, default)
    wanted = [
        *spec.required,
        *(
            name
            for name, canonical in canon.items()
            if canonical.needed
            and not (canonical.derived_via and mapping.maps_entity(_via(entity, canonical)))
        ),
    ]
    for name in wanted:
        if name not in found and name not in lookups:
            source = spec.source_of(name)
            where = f" (Zoho field {source})" if source else ""
            return Reject("missing required field", f"{name}{where} is missing or empty", name)
    values = {name: found.get(name) for name, canonical in canon.items() if not canonical.personal}
    personal = {
        name: found[name]
        for name, canonical in canon.items()
        if canonical.personal and name in found
    }
    if personal:
        model = PERSONAL_MODELS[entity]
        try:
            checked = model.model_validate(personal)
        except ValidationError as exc:
            name = str(exc.errors()[0]["loc"][0])
            return Reject(
                "invalid value",
                f"{spec.source_of(name) or name}: not a valid {name}: {first_error(exc)}",
                name,
            )
        personal = checked.model_dump()
    return Mapped(entity, values, personal, lookups)


def _via(entity: Entity, canonical: Any) -> Entity:
    """The entity a derived field is read from."""
    reference = CANONICAL[entity][canonical.derived_via]
    assert reference.references is not None  # noqa: S101 - derived_via names a reference
    return reference.references
