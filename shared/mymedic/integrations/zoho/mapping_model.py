"""The tenant's mapping file: its models, the consistency checks run when it is read,
and loading it from TOML. Part of :mod:`mymedic.integrations.zoho.mapping`."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mymedic.domain.events import TimeZoneName
from mymedic.domain.types import Identifier
from mymedic.integrations.zoho.mapping_canonical import (
    CANONICAL,
    MAPPABLE_KINDS,
    check_canonical,
    entity_id_field,
    error_message,
)
from mymedic.integrations.zoho.records import Entity
from mymedic.integrations.zoho_books.config import BooksMapping

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
MODIFIED_TIME = "Modified_Time"
RECORD_ID_FIELDS = frozenset({"id", "Id"})  # the record's own id: the client adds it


class MappingError(ValueError):
    """A mapping file that cannot be used, or a module it does not map."""


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

    def zoho_fields(self) -> list[str]:
        """The mapped Zoho fields other than the record's own id."""
        return [zoho for zoho in self.fields if zoho not in RECORD_ID_FIELDS]


def _invalid(entity: Entity, name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid canonical ``name``, or None if it is one."""
    try:
        check_canonical(entity, name, value)
    except ValueError as exc:
        return f"{value!r} {exc}"
    return None


def _module_problems(module: ModuleMapping) -> list[str]:
    entity = module.entity
    canon = CANONICAL[entity]
    not_a_field = f"not a {entity} field ({', '.join(canon)})"
    own = entity_id_field(entity)
    problems: list[str] = []
    sources: dict[str, str] = {}
    for zoho, name in module.fields.items():
        if name not in canon:
            problems.append(f"fields.{zoho} maps to {name!r}, {not_a_field}")
        elif name in sources:
            problems.append(f"fields.{zoho} and fields.{sources[name]} both map to {name!r}")
        else:
            sources[name] = zoho
    problems += [
        f"required: {name!r} is {not_a_field}" for name in module.required if name not in canon
    ]
    for name, value_map in module.value_maps.items():
        if name not in canon:
            problems.append(f"value_maps.{name}: {not_a_field}")
        elif canon[name].kind not in MAPPABLE_KINDS:
            problems.append(f"value_maps.{name}: value maps apply to text and picklist fields")
        elif name not in sources:
            problems.append(f"value_maps.{name}: no Zoho field is mapped to {name!r}")
        else:
            for key, value in value_map.items():
                if (why := _invalid(entity, name, value)) is not None:
                    problems.append(f"value_maps.{name}.{key!r}: {why}")
    for name, value in module.defaults.items():
        if name not in canon:
            problems.append(f"defaults.{name}: {not_a_field}")
        elif name == own:
            problems.append(f"defaults.{name}: the entity id cannot have a default")
        elif name in module.required:
            problems.append(f"defaults.{name}: {name!r} is also required, so never defaulted")
        elif (why := _invalid(entity, name, value)) is not None:
            problems.append(f"defaults.{name}: {why}")
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
    books: BooksMapping | None = None  # Zoho Books, if the tenant invoices there

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def not_mapped(self, module: str, *, listing: bool = False) -> str:
        """Why ``module`` cannot be read; ``listing`` names the modules that can."""
        known = f"; modules: {', '.join(self.modules)}" if listing else ""
        return (
            f"module {module!r} is not in the Zoho mapping of {self.tenant_id} "
            f"(version {self.version}{known})"
        )


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
            + error_message(error)
            for error in exc.errors()
        ]
        raise MappingError(f"{path}: invalid Zoho mapping:\n" + "\n".join(lines)) from None


def module_mapping(mapping: TenantMapping, module: str) -> ModuleMapping:
    try:
        return mapping.modules[module]
    except KeyError:
        raise MappingError(mapping.not_mapped(module, listing=True)) from None


def mapping_fields(mapping: TenantMapping, module: str) -> list[str]:
    """The Zoho field API names to request for ``module``: every mapped field and
    ``Modified_Time``, never the record id (the client adds ids itself)."""
    names = module_mapping(mapping, module).zoho_fields()
    if MODIFIED_TIME not in names:
        names.append(MODIFIED_TIME)
    return names
