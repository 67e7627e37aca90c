"""The tenant's mapping file: its models, the consistency checks run when it is read,
and loading it from TOML. Part of :mod:`mymedic.integrations.zoho.mapping`."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mymedic.domain.events import ShortText, TimeZoneName
from mymedic.domain.types import CurrencyCode, Identifier
from mymedic.integrations.zoho.mapping_canonical import (
    CANONICAL,
    CREATED_TIME,
    CRM_AMOUNT_FIELDS,
    MAPPABLE_KINDS,
    MONEY_ENTITIES,
    REFERENCES,
    check_canonical,
    entity_id_field,
    error_message,
)
from mymedic.integrations.zoho.records import Entity
from mymedic.integrations.zoho_books.config import BooksMapping

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
# A minimal mapping for a CRM that keeps patients, appointments and referrals only.
EXAMPLE_MAPPING = MAPPINGS_DIR / "examples" / "minimal.toml"
MODIFIED_TIME = "Modified_Time"
RECORD_ID_FIELDS = frozenset({"id", "Id"})  # the record's own id: the client adds it
ZohoField = str
ModuleName = str

# How the clinic bills, which decides where invoices and payments come from (see
# ``integrations/zoho/billing.py`` and the README's "Which source wins"):
#   none         MyMedic's own commands and the gateways only;
#   crm_records  CRM records: an Invoices module and Payments/Refunds modules;
#   crm_amount   the appointment's amount is the bill; its payment status (or the amount
#                paid) says what was paid;
#   books        Zoho Books (the ``[books]`` table).
Billing = Literal["none", "crm_records", "crm_amount", "books"]


class MappingError(ValueError):
    """A mapping file that cannot be used, or a module it does not map."""


class ModuleMapping(BaseModel):
    """One Zoho module read as one canonical entity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: Entity
    fields: dict[ZohoField, str]  # Zoho field API name -> canonical field name
    required: list[str] = []  # canonical fields that must be present and non-empty
    # canonical field -> {Zoho picklist value -> canonical value}
    value_maps: dict[str, dict[str, str]] = {}
    defaults: dict[str, Any] = {}  # canonical values used when the record has none
    # Zoho lookup fields -> the module they point to: the looked-up record's Zoho id is
    # replaced by the id of the entity that record became (its own code, say).
    lookups: dict[ZohoField, ModuleName] = {}
    # Records without these canonical fields are not this entity's (a user who is no
    # clinician): ignored, not quarantined.
    ignore_without: list[str] = []
    # Formula fields: Zoho does not move Modified_Time when they change, so the
    # zoho-formula-refresh job re-reads them.
    formula_fields: list[ZohoField] = []

    @model_validator(mode="after")
    def _consistent(self) -> ModuleMapping:
        problems = _module_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def source_of(self, canonical: str) -> str | None:
        """The Zoho field that feeds ``canonical``, if any (Zoho's own default, such as
        Created_Time for ``created_at``, when the mapping names none)."""
        for zoho, name in self.fields.items():
            if name == canonical:
                return zoho
        spec = CANONICAL[self.entity].get(canonical)
        if spec is not None and spec.zoho_default and canonical not in self.defaults:
            return spec.zoho_default
        return None

    def canonical_sources(self) -> dict[ZohoField, str]:
        """Every Zoho field read, to the canonical field it feeds: the mapped fields and
        Zoho's defaults (Created_Time) for what the mapping does not name."""
        sources = dict(self.fields)
        for name, spec in CANONICAL[self.entity].items():
            unnamed = name not in self.fields.values() and name not in self.defaults
            if spec.zoho_default and unnamed:
                sources.setdefault(spec.zoho_default, name)
        return sources

    def zoho_fields(self) -> list[str]:
        """The Zoho fields to request, other than the record's own id."""
        names = [zoho for zoho in self.canonical_sources() if zoho not in RECORD_ID_FIELDS]
        names += [name for name in self.formula_fields if name not in names]
        return names

    def maps(self, canonical: str) -> bool:
        return self.source_of(canonical) is not None or canonical in self.defaults


def _invalid(entity: Entity, name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid canonical ``name``, or None if it is one."""
    if CANONICAL[entity][name].kind in ("hours", "date"):
        return None  # read from text by their readers, checked when read
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
    problems += [
        f"ignore_without: {name!r} is {not_a_field}"
        for name in module.ignore_without
        if name not in canon
    ]
    for zoho, target in module.lookups.items():
        fed = module.fields.get(zoho)
        if fed is None:
            problems.append(f"lookups.{zoho}: the field is not mapped")
        elif fed in canon and canon[fed].kind != "id":
            problems.append(f"lookups.{zoho}: {fed!r} is not an id, a lookup cannot feed it")
        if not target.replace("_", "").isalnum():
            problems.append(f"lookups.{zoho}: {target!r} is not a module API name")
    for name, value_map in module.value_maps.items():
        if name not in canon:
            problems.append(f"value_maps.{name}: {not_a_field}")
        elif canon[name].kind not in MAPPABLE_KINDS:
            problems.append(f"value_maps.{name}: value maps apply to text and picklist fields")
        elif name not in sources:
            problems.append(f"value_maps.{name}: no Zoho field is mapped to {name!r}")
        else:
            for key, value in value_map.items():
                checked: Any = [value] if canon[name].kind == "choices" else value
                if (why := _invalid(entity, name, checked)) is not None:
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
        if spec.needed
        and name != own
        and spec.derived_via is None
        and not module.maps(name)
        and spec.zoho_default is None
    ]
    return problems


class BranchSpec(BaseModel):
    """A branch named by a picklist value (when no module holds the branches)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    branch_id: Identifier
    display_name: ShortText | None = None  # default: the picklist value
    city: ShortText
    timezone: TimeZoneName
    currency: CurrencyCode


class TenantMapping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: Identifier
    version: int = Field(ge=1)
    # Zoho date-times without an offset, and dates, are read in this zone.
    timezone: TimeZoneName
    modules: dict[ModuleName, ModuleMapping] = Field(min_length=1)  # key: module API name
    books: BooksMapping | None = None  # Zoho Books, if the tenant invoices there
    billing: Billing | None = None  # None: inferred (see ``billing_source``)
    # billing = "crm_amount": a visit's bill is due this many days after the visit.
    payment_terms_days: int = Field(default=0, ge=0, le=365)
    # Branches named by a picklist value -> the branch (registered from here).
    branches: dict[str, BranchSpec] = {}

    @model_validator(mode="after")
    def _consistent(self) -> TenantMapping:
        problems = _tenant_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def billing_source(self) -> Billing:
        """How the clinic bills: as set, or what the mapping implies."""
        return self.billing or _implied_billing(self)

    def entity_modules(self, entity: Entity) -> list[str]:
        return [name for name, module in self.modules.items() if module.entity == entity]

    def maps_entity(self, entity: Entity) -> bool:
        return any(module.entity == entity for module in self.modules.values()) or (
            entity == "branch" and bool(self.branches)
        )

    def branch_picklist(self) -> dict[str, str]:
        """Picklist value -> branch id, from ``[branches]``."""
        return {value: spec.branch_id for value, spec in self.branches.items()}

    def not_mapped(self, module: str, *, listing: bool = False) -> str:
        """Why ``module`` cannot be read; ``listing`` names the modules that can."""
        known = f"; modules: {', '.join(self.modules)}" if listing else ""
        return (
            f"module {module!r} is not in the Zoho mapping of {self.tenant_id} "
            f"(version {self.version}{known})"
        )


def _amount_fields(mapping: TenantMapping) -> list[str]:
    return [
        f"{name}.{module.source_of(field)}"
        for name, module in mapping.modules.items()
        if module.entity == "appointment"
        for field in sorted(CRM_AMOUNT_FIELDS)
        if module.source_of(field) is not None
    ]


def _money_modules(mapping: TenantMapping) -> list[str]:
    return [name for name, module in mapping.modules.items() if module.entity in MONEY_ENTITIES]


def _implied_billing(mapping: TenantMapping) -> Billing:
    if mapping.books is not None:
        return "books"
    if _money_modules(mapping):
        return "crm_records"
    if _amount_fields(mapping):
        return "crm_amount"
    return "none"


def _tenant_problems(mapping: TenantMapping) -> list[str]:
    """One source of invoices per tenant, so that no bill is ever counted twice."""
    billing = mapping.billing_source
    problems: list[str] = []
    money = _money_modules(mapping)
    amounts = _amount_fields(mapping)
    if mapping.books is not None and billing != "books":
        problems.append(f"billing = {billing!r}, but a [books] table makes Zoho Books bill")
    if money and billing != "crm_records":
        problems.append(
            f"billing = {billing!r}, but {', '.join(money)} map invoices, payments or "
            'refunds (billing = "crm_records")'
        )
    if amounts and billing != "crm_amount":
        problems.append(
            f"billing = {billing!r}, but {', '.join(amounts)} map the appointment's payment "
            'fields (billing = "crm_amount")'
        )
    if billing == "books" and mapping.books is None:
        problems.append('billing = "books" needs a [books] table (organization_id)')
    if billing == "crm_amount" and not any(
        module.maps("paid_minor") or module.maps("payment_status")
        for module in mapping.modules.values()
        if module.entity == "appointment"
    ):
        problems.append(
            'billing = "crm_amount" needs the appointment\'s paid_minor or payment_status mapped'
        )
    for name, module in mapping.modules.items():
        for zoho, target in module.lookups.items():
            if target not in mapping.modules:
                problems.append(f"modules.{name}.lookups.{zoho}: {target!r} is not mapped")
                continue
            wanted = REFERENCES.get(module.fields.get(zoho, ""))
            found = mapping.modules[target].entity
            if wanted is not None and found != wanted:
                problems.append(
                    f"modules.{name}.lookups.{zoho}: {target} holds {found}s, not {wanted}s"
                )
    if mapping.branches and mapping.entity_modules("branch"):
        problems.append("branches come from a module or from [branches], not both")
    for name, module in mapping.modules.items():
        for field, spec in CANONICAL[module.entity].items():
            via = spec.derived_via
            if via is None or module.maps(field):
                continue
            source = REFERENCES[via]
            if not mapping.maps_entity(source):
                problems.append(
                    f"modules.{name}: {field!r} is needed: map a Zoho field to it, give it "
                    f"a default, or map the {source} module it can be read from"
                )
    return problems


def load_mapping(path: Path) -> TenantMapping:
    """Read a TOML mapping; :class:`MappingError` names the file and every bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from exc
    return parse_mapping(data, str(path))


def parse_mapping(data: dict[str, Any], where: str = "mapping") -> TenantMapping:
    try:
        return TenantMapping.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(part) for part in error['loc']) or '(top level)'}: "
            + error_message(error)
            for error in exc.errors()
        ]
        raise MappingError(f"{where}: invalid Zoho mapping:\n" + "\n".join(lines)) from None


def module_mapping(mapping: TenantMapping, module: str) -> ModuleMapping:
    try:
        return mapping.modules[module]
    except KeyError:
        raise MappingError(mapping.not_mapped(module, listing=True)) from None


def mapping_fields(mapping: TenantMapping, module: str) -> list[str]:
    """The Zoho field API names to request for ``module``: every mapped field,
    ``Modified_Time`` and ``Created_Time``, never the record id (the client adds ids)."""
    names = module_mapping(mapping, module).zoho_fields()
    for stamp in (MODIFIED_TIME, CREATED_TIME):
        if stamp not in names:
            names.append(stamp)
    return names
