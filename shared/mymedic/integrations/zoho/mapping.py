"""The tenant's Zoho field mapping: which module is which entity, which Zoho field
feeds which canonical field, and how picklist values read in canonical terms.

A mapping is a TOML file (see ``mappings/sunrise-imaging.toml``), versioned: every
:class:`MappedRecord` carries the version it was mapped with. :func:`map_record` turns
one :class:`ZohoRecord` (REST JSON or Bulk Read CSV, the same result either way) into a
:class:`MappedRecord` or a :class:`Quarantined` with its reason; :func:`check_mapping`
runs a mapping over sample records before it is put to use and reports what would go
wrong.

Decisions worth knowing:

* The field ``id`` (or ``Id``) may be mapped: it is the record's own Zoho id. A Zoho
  lookup gives the bare id of the record it points to, so a module whose records are
  looked up from elsewhere (patients, referrals) should map ``id`` to its entity id;
  a module that maps no field to its entity id gets ``zoho-<record id>``.
* Money is read as a decimal in major units and turned into minor units (x100) with
  :class:`~decimal.Decimal`, never through a float; more than two decimals is refused.
* Free text cut to the canonical length (a cancellation reason) is shortened, not
  refused: losing an appointment over a long reason would be worse.
* Personal fields (name, phone, e-mail, date of birth, postcode) go to
  ``MappedRecord.personal`` and are checked by :class:`PatientPersonalData`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from mymedic.domain.events import Gclid, PatientPersonalData, ShortText, TimeZoneName
from mymedic.domain.types import (
    AppointmentStatus,
    AwareDatetime,
    CurrencyCode,
    Identifier,
    MinorUnits,
    ReferrerType,
)
from mymedic.integrations.zoho.records import Entity, MappedRecord, Quarantined, ZohoRecord

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
MODIFIED_TIME = "Modified_Time"
RECORD_ID_FIELDS = frozenset({"id", "Id"})  # the record's own id: the client adds it
ID_PREFIX = "zoho-"

# --- canonical fields ------------------------------------------------------------------

Kind = Literal["id", "text", "choice", "datetime", "date", "int", "money"]
# Value maps translate picklist values into canonical text: they apply to these kinds.
_MAPPABLE_KINDS = frozenset({"id", "text", "choice"})


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


def entity_id_field(entity: Entity) -> str:
    return f"{entity}_id"


class MappingError(ValueError):
    """A mapping file that cannot be used, or a module it does not map."""


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return str(error["msg"]).removeprefix("Value error, ")


def _check_canonical(entity: Entity, name: str, value: Any) -> Any:
    """``value`` as a valid canonical value of ``name``; ValueError if it is not one."""
    spec = CANONICAL[entity][name]
    if spec.adapter is not None:
        try:
            return spec.adapter.validate_python(value)
        except ValidationError as exc:
            raise ValueError(_first_error(exc)) from None
    probe = {"full_name": "Placeholder", name: value}
    try:
        return getattr(PatientPersonalData.model_validate(probe), name)
    except ValidationError as exc:
        raise ValueError(_first_error(exc)) from None


# --- the mapping -----------------------------------------------------------------------


class ModuleMapping(BaseModel):
    """One Zoho module read as one canonical entity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: Entity
    fields: dict[str, str]  # Zoho field API name -> canonical field name
    required: list[str] = []  # canonical fields that must be present and non-empty
    # canonical field -> {Zoho picklist value -> canonical value}
    value_maps: dict[str, dict[str, str]] = {}
    defaults: dict[str, Any] = {}  # canonical values used when the record has none

    @model_validator(mode="after")
    def _consistent(self) -> ModuleMapping:
        problems = _module_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def source_of(self, canonical: str) -> str | None:
        """The Zoho field that feeds ``canonical``, if any."""
        return next((zoho for zoho, name in self.fields.items() if name == canonical), None)


def _module_problems(module: ModuleMapping) -> list[str]:
    entity = module.entity
    canon = CANONICAL[entity]
    known = ", ".join(canon)
    own = entity_id_field(entity)
    problems: list[str] = []
    sources: dict[str, str] = {}
    for zoho, name in module.fields.items():
        if name not in canon:
            problems.append(f"fields.{zoho} maps to {name!r}, not a {entity} field ({known})")
        elif name in sources:
            problems.append(f"fields.{zoho} and fields.{sources[name]} both map to {name!r}")
        else:
            sources[name] = zoho
    problems += [
        f"required: {name!r} is not a {entity} field ({known})"
        for name in module.required
        if name not in canon
    ]
    for name, value_map in module.value_maps.items():
        if name not in canon:
            problems.append(f"value_maps.{name}: not a {entity} field ({known})")
        elif canon[name].kind not in _MAPPABLE_KINDS:
            problems.append(f"value_maps.{name}: value maps apply to text and picklist fields")
        elif name not in sources:
            problems.append(f"value_maps.{name}: no Zoho field is mapped to {name!r}")
        else:
            for key, value in value_map.items():
                try:
                    _check_canonical(entity, name, value)
                except ValueError as exc:
                    problems.append(f"value_maps.{name}.{key!r}: {value!r} {exc}")
    for name, value in module.defaults.items():
        if name not in canon:
            problems.append(f"defaults.{name}: not a {entity} field ({known})")
        elif name == own:
            problems.append(f"defaults.{name}: the entity id cannot have a default")
        elif name in module.required:
            problems.append(f"defaults.{name}: {name!r} is also required, so never defaulted")
        else:
            try:
                _check_canonical(entity, name, value)
            except ValueError as exc:
                problems.append(f"defaults.{name}: {value!r} {exc}")
    problems += [
        f"{name!r} is needed to build {entity} events: map a Zoho field to it or give it a default"
        for name, spec in canon.items()
        if spec.needed and name != own and name not in sources and name not in module.defaults
    ]
    return problems


class TenantMapping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: Identifier
    version: int = Field(ge=1)
    # Zoho date-times without an offset, and dates, are read in this zone.
    timezone: TimeZoneName
    modules: dict[str, ModuleMapping] = Field(min_length=1)  # key: module API name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_mapping(path: Path) -> TenantMapping:
    """Read a TOML mapping; :class:`MappingError` names the file and every bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return TenantMapping.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(part) for part in error['loc']) or '(top level)'}: "
            + str(error["msg"]).removeprefix("Value error, ")
            for error in exc.errors()
        ]
        raise MappingError(f"{path}: invalid Zoho mapping:\n" + "\n".join(lines)) from None


def module_mapping(mapping: TenantMapping, module: str) -> ModuleMapping:
    try:
        return mapping.modules[module]
    except KeyError:
        raise MappingError(
            f"module {module!r} is not in the Zoho mapping of {mapping.tenant_id} "
            f"(version {mapping.version}; modules: {', '.join(mapping.modules)})"
        ) from None


def mapping_fields(mapping: TenantMapping, module: str) -> list[str]:
    """The Zoho field API names to request for ``module``: every mapped field and
    ``Modified_Time``, never the record id (the client adds ids itself)."""
    names = [
        zoho for zoho in module_mapping(mapping, module).fields if zoho not in RECORD_ID_FIELDS
    ]
    if MODIFIED_TIME not in names:
        names.append(MODIFIED_TIME)
    return names


# --- reading Zoho values -----------------------------------------------------------------

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


class _Rejected(Exception):
    """Internal: why one field cannot be read; never escapes this module."""

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
            raise _Rejected("unparsable value", "an object without an id")
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
    raise _Rejected("unparsable value", f"a {type(raw).__name__} where one value is expected")


def _text(value: Plain) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _as_text(value: Plain, zone: ZoneInfo) -> str:
    return _text(value)


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
        key = _text(value)
        if key not in value_map:
            raise _Rejected(
                "unmapped picklist value",
                f"{zoho}: picklist value {key!r} has no entry in value_maps.{name}",
            )
        value = value_map[key]
    try:
        read = _READERS[spec.kind](value, zone)
    except ValueError as exc:
        what = _KIND_NAMES.get(spec.kind, "text")
        raise _Rejected(
            "unparsable value", f"{zoho}: cannot read {value!r} as {what} ({exc})"
        ) from None
    if spec.cut_at is not None and isinstance(read, str) and len(read) > spec.cut_at:
        read = read[: spec.cut_at - 1] + "\u2026"
    if spec.personal:
        return read  # checked with the whole personal part
    try:
        return _check_canonical(module.entity, name, read)
    except ValueError as exc:
        raise _Rejected("invalid value", f"{zoho}: {read!r} is not a valid {name}: {exc}") from None


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
        return Reject(
            "unknown module",
            f"module {module!r} is not in the Zoho mapping of {mapping.tenant_id} "
            f"(version {mapping.version})",
        )
    entity = spec.entity
    canon = CANONICAL[entity]
    zone = mapping.zone
    found: dict[str, Any] = {}
    for zoho, name in spec.fields.items():
        raw = record_id if zoho in RECORD_ID_FIELDS else fields.get(zoho)
        try:
            value = _read(spec, zoho, name, raw, zone)
        except _Rejected as rejected:
            return Reject(rejected.kind, rejected.reason, name)
        if value is not None:
            found[name] = value
    own = entity_id_field(entity)
    if own not in spec.fields.values():
        try:
            found[own] = _check_canonical(entity, own, ID_PREFIX + record_id)
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
                f"{spec.source_of(name) or name}: not a valid {name}: {_first_error(exc)}",
                name,
            )
        personal = checked.model_dump()
    return Mapped(entity, values, personal)


def map_record(mapping: TenantMapping, record: ZohoRecord) -> MappedRecord | Quarantined:
    """One Zoho record version in canonical terms, or quarantined with the reason."""
    outcome = map_fields(mapping, record.module, record.record_id, record.fields)
    if isinstance(outcome, Reject):
        return Quarantined(
            module=record.module,
            record_id=record.record_id,
            modified_time=record.modified_time,
            reason=outcome.reason,
            field=outcome.field,
        )
    return MappedRecord(
        module=record.module,
        record_id=record.record_id,
        modified_time=record.modified_time,
        entity=outcome.entity,
        values=outcome.values,
        personal=outcome.personal,
        mapping_version=mapping.version,
    )


# --- checking a mapping against sample records -----------------------------------------------


@dataclass(frozen=True)
class QuarantineCount:
    kind: RejectKind
    field: str | None
    count: int
    example: str  # one record's reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "field": self.field,
            "count": self.count,
            "example": self.example,
        }


@dataclass(frozen=True)
class ModuleReport:
    module: str
    entity: Entity | None  # None: the module is not in the mapping
    records: int
    unmapped: tuple[str, ...] = ()  # Zoho fields seen in the samples, not mapped
    unknown: tuple[str, ...] = ()  # mapped Zoho fields never seen in the samples
    always_empty: tuple[str, ...] = ()  # mapped Zoho fields empty in every sample
    # canonical field -> picklist values seen with no value-map entry
    unmapped_values: dict[str, tuple[str, ...]] | None = None
    quarantined: tuple[QuarantineCount, ...] = ()

    @property
    def quarantined_records(self) -> int:
        return sum(count.count for count in self.quarantined)

    @property
    def ok(self) -> bool:
        return (
            self.entity is not None
            and not self.unknown
            and not self.always_empty
            and not self.unmapped_values
            and not self.quarantined
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "entity": self.entity,
            "records": self.records,
            "ok": self.ok,
            "unmapped": list(self.unmapped),
            "unknown": list(self.unknown),
            "always_empty": list(self.always_empty),
            "unmapped_values": {k: list(v) for k, v in (self.unmapped_values or {}).items()},
            "quarantined_records": self.quarantined_records,
            "quarantined": [count.to_dict() for count in self.quarantined],
        }

    def to_lines(self) -> list[str]:
        entity = self.entity or "not in the mapping"
        head = f"{self.module} -> {entity}: {self.records} sample record(s)"
        if self.records:
            head += f", {self.quarantined_records} would be quarantined"
        lines = [head]
        if self.unknown:
            lines.append(f"  ! mapped but never seen in the samples: {', '.join(self.unknown)}")
        if self.always_empty:
            lines.append(
                "  ! mapped but empty in every sample (restricted from API access?): "
                + ", ".join(self.always_empty)
            )
        for name, values in (self.unmapped_values or {}).items():
            shown = ", ".join(repr(value) for value in values)
            lines.append(f"  ! {name}: picklist values with no value-map entry: {shown}")
        lines += [
            f"  ! quarantined {count.count} x {count.kind}"
            + (f" ({count.field})" if count.field else "")
            + f", e.g. {count.example}"
            for count in self.quarantined
        ]
        if self.unmapped:
            lines.append(f"  - seen but not mapped: {', '.join(self.unmapped)}")
        return lines


@dataclass(frozen=True)
class MappingReport:
    tenant_id: str
    version: int
    modules: tuple[ModuleReport, ...]
    issues: tuple[str, ...] = ()  # problems of the mapping itself
    warnings: tuple[str, ...] = ()  # worth a look, not failing the check

    @property
    def ok(self) -> bool:
        return not self.issues and all(module.ok for module in self.modules if module.records)

    def module(self, name: str) -> ModuleReport:
        return next(module for module in self.modules if module.module == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "version": self.version,
            "ok": self.ok,
            "issues": list(self.issues),
            "warnings": list(self.warnings),
            "modules": {module.module: module.to_dict() for module in self.modules},
        }

    def to_text(self) -> str:
        verdict = "OK" if self.ok else "PROBLEMS FOUND"
        lines = [f"Zoho mapping check, {self.tenant_id} version {self.version}: {verdict}"]
        lines += [f"! {issue}" for issue in self.issues]
        lines += [f"- {warning}" for warning in self.warnings]
        for module in self.modules:
            lines += ["", *module.to_lines()]
        return "\n".join(lines) + "\n"


def _is_empty(raw: Any) -> bool:
    try:
        return plain_value(raw) is None
    except _Rejected:
        return False


def _unmapped_values(
    module: ModuleMapping, samples: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[str, ...]]:
    canon = CANONICAL[module.entity]
    found: dict[str, set[str]] = {}
    for zoho, name in module.fields.items():
        value_map = module.value_maps.get(name)
        known = set(value_map) if value_map is not None else set(canon[name].choices)
        if not known:
            continue  # neither a value map nor a canonical picklist
        for sample in samples:
            try:
                value = plain_value(sample.get(zoho))
            except _Rejected:
                continue
            if value is not None and _text(value) not in known:
                found.setdefault(name, set()).add(_text(value))
    return {name: tuple(sorted(values)) for name, values in sorted(found.items())}


def _quarantine_counts(
    mapping: TenantMapping, module: str, samples: Sequence[Mapping[str, Any]]
) -> tuple[QuarantineCount, ...]:
    counts: dict[tuple[RejectKind, str | None], list[str]] = {}
    for index, sample in enumerate(samples):
        record_id = str(sample.get("id") or sample.get("Id") or f"sample-{index + 1}")
        outcome = map_fields(mapping, module, record_id, sample)
        if isinstance(outcome, Reject):
            counts.setdefault((outcome.kind, outcome.field), []).append(outcome.reason)
    return tuple(
        QuarantineCount(kind, name, len(reasons), reasons[0])
        for (kind, name), reasons in sorted(counts.items(), key=lambda item: -len(item[1]))
    )


def _module_report(
    mapping: TenantMapping, module: str, samples: Sequence[Mapping[str, Any]]
) -> ModuleReport:
    spec = mapping.modules.get(module)
    quarantined = _quarantine_counts(mapping, module, samples)
    if spec is None:
        return ModuleReport(module, None, len(samples), quarantined=quarantined)
    seen = {name for sample in samples for name in sample}
    mapped = [zoho for zoho in spec.fields if zoho not in RECORD_ID_FIELDS]
    ignored = RECORD_ID_FIELDS | {MODIFIED_TIME}
    return ModuleReport(
        module=module,
        entity=spec.entity,
        records=len(samples),
        unmapped=tuple(
            sorted(
                name
                for name in seen
                if name not in spec.fields and name not in ignored and not name.startswith("$")
            )
        ),
        unknown=tuple(zoho for zoho in mapped if zoho not in seen),
        always_empty=tuple(
            zoho
            for zoho in mapped
            if zoho in seen and all(_is_empty(sample.get(zoho)) for sample in samples)
        ),
        unmapped_values=_unmapped_values(spec, samples),
        quarantined=quarantined,
    )


def _reference_issues(mapping: TenantMapping) -> list[str]:
    """References (a patient, a referral) fed by a Zoho field while the module of that
    entity gives its records ``zoho-<record id>``: a lookup's bare id never matches."""
    issues = []
    for name, module in mapping.modules.items():
        for canonical, target in REFERENCES.items():
            source = module.source_of(canonical)
            if module.entity == target or source is None:
                continue
            for other_name, other in mapping.modules.items():
                if other.entity == target and other.source_of(canonical) is None:
                    issues.append(
                        f"{name}.{source} feeds {canonical}, but {other_name} maps no field "
                        f"to {canonical}, so its {target}s get ids '{ID_PREFIX}<record id>' "
                        f'that a lookup never matches: map id = "{canonical}" in {other_name}'
                    )
    return issues


def check_mapping(
    mapping: TenantMapping, samples: Mapping[str, Sequence[Mapping[str, Any]]]
) -> MappingReport:
    """Run the mapping over sample records (module API name -> field dictionaries, REST
    or CSV shaped) and report what does not fit."""
    reports = [_module_report(mapping, module, rows) for module, rows in samples.items()]
    unsampled = [
        module for module in mapping.modules if module not in samples or not samples[module]
    ]
    reports += [
        ModuleReport(module, mapping.modules[module].entity, 0)
        for module in unsampled
        if module not in samples
    ]
    issues = _reference_issues(mapping)
    issues += [
        f"module {report.module!r} is in the samples but not in the mapping"
        for report in reports
        if report.entity is None
    ]
    warnings = [f"no samples for {module}: not checked" for module in unsampled]
    return MappingReport(
        tenant_id=mapping.tenant_id,
        version=mapping.version,
        modules=tuple(reports),
        issues=tuple(issues),
        warnings=tuple(warnings),
    )
