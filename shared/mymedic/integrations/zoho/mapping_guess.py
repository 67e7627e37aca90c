"""The guesses of ``mymedic zoho mapping init``: which module is which canonical entity,
which field feeds which canonical field (a lookup to the module of the entity a
reference names first, then names), and what each picklist value means. Every guess
says why it was made; what was not found is left for the admin to decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from mymedic.domain.types import Identifier
from mymedic.integrations.zoho.client import USERS
from mymedic.integrations.zoho.mapping_canonical import (
    CANONICAL,
    CRM_AMOUNT_FIELDS,
    MAPPABLE_KINDS,
    MONEY_ENTITIES,
    REFERENCES,
    CanonicalField,
    Kind,
    entity_id_field,
)
from mymedic.integrations.zoho.mapping_metadata import FieldMeta, ModuleMeta, OrgMetadata
from mymedic.integrations.zoho.mapping_model import Billing
from mymedic.integrations.zoho.mapping_names import (
    ENTITY_NAMES,
    FIELD_NAMES,
    KIND_TYPES,
    LOOKUP_TYPES,
    OWN_ID_NAMES,
    USER_LOOKUP_TYPES,
    VALUE_NAMES,
    key,
    module_names,
)
from mymedic.integrations.zoho.records import Entity

_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
RECORD_ID = "id"


@dataclass(frozen=True)
class FieldGuess:
    zoho: str
    canonical: str
    why: str
    lookup: str | None = None  # the mapped module a lookup field points to


@dataclass(frozen=True)
class ValueMapGuess:
    canonical: str
    zoho: str
    # picklist value -> canonical value; None: to decide (with a suggestion, if any)
    entries: tuple[tuple[str, str | None, str], ...]
    choices: tuple[str, ...]  # the canonical values allowed, if a fixed list

    @property
    def open_values(self) -> int:
        return sum(1 for _value, mapped, _hint in self.entries if mapped is None)


@dataclass
class ModuleGuess:
    meta: ModuleMeta
    entity: Entity
    why: str
    fields: list[FieldGuess] = field(default_factory=list)
    value_maps: list[ValueMapGuess] = field(default_factory=list)
    formula_fields: list[str] = field(default_factory=list)
    ignore_without: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # needed canonical fields not found
    notes: list[str] = field(default_factory=list)  # other decisions left

    @property
    def name(self) -> str:
        return self.meta.api_name

    def maps(self, canonical: str) -> bool:
        return any(guess.canonical == canonical for guess in self.fields)

    def unused(self) -> list[str]:
        taken = {guess.zoho for guess in self.fields}
        return [item.api_name for item in self.meta.fields if item.api_name not in taken]


@dataclass
class Draft:
    tenant_id: str
    time_zone: str | None
    billing: Billing
    billing_why: str
    modules: list[ModuleGuess]
    unmapped: list[str]  # the org's modules that look like no entity
    alternatives: list[str]  # modules that looked like an entity another module took
    skipped: list[str]  # modules whose fields Zoho would not list


def guess_mapping(tenant_id: str, metadata: OrgMetadata) -> Draft:
    chosen, alternatives = _choose_modules(metadata)
    by_entity = {guess.entity: guess.name for guess in chosen}
    money = [guess.name for guess in chosen if guess.entity in MONEY_ENTITIES]
    for guess in chosen:
        _guess_fields(guess, by_entity, crm_amount=not money)
    billing, why = _billing(chosen, money)
    for guess in chosen:
        guess.missing = _missing(guess, by_entity)
    taken = {guess.name for guess in chosen}
    return Draft(
        tenant_id=tenant_id,
        time_zone=_zone(metadata.time_zone),
        billing=billing,
        billing_why=why,
        modules=chosen,
        unmapped=[module.api_name for module in metadata.modules if module.api_name not in taken],
        alternatives=alternatives,
        skipped=list(metadata.skipped),
    )


# -- modules ------------------------------------------------------------------------


def _choose_modules(metadata: OrgMetadata) -> tuple[list[ModuleGuess], list[str]]:
    chosen: list[ModuleGuess] = []
    alternatives: list[str] = []
    used: set[str] = set()
    for entity, patterns in ENTITY_NAMES.items():
        ranked = sorted(
            (score, module)
            for module in metadata.modules
            if module.api_name not in used
            and (score := _module_score(module, patterns)) is not None
        )
        if not ranked:
            if entity == "clinician" and metadata.users is not None:
                chosen.append(ModuleGuess(metadata.users, entity, "the Users API: CRM users"))
            continue
        best = ranked[0][1]
        used.add(best.api_name)
        label = best.plural_label if best.plural_label != best.api_name else best.api_name
        chosen.append(ModuleGuess(best, entity, f"the module's name ({label})"))
        alternatives += [f"{module.api_name} (as {entity})" for _score, module in ranked[1:]]
    return chosen, alternatives


def _module_score(module: ModuleMeta, patterns: tuple[str, ...]) -> tuple[int, int, int] | None:
    """Lower is better: a whole name before a name's last words, a custom module (the
    clinic made it) before a standard one, then the order of the patterns."""
    names = module_names(module.api_name, module.plural_label, module.singular_label)
    for rank, pattern in enumerate(patterns):
        forms = {pattern, pattern + "s", pattern.removesuffix("s")}
        if names & forms:
            return 0, int(not module.custom), rank
        if any(name.endswith(f" {form}") for name in names for form in forms):
            return 1, int(not module.custom), rank
    return None


# -- fields -------------------------------------------------------------------------


def _guess_fields(guess: ModuleGuess, by_entity: dict[Entity, str], *, crm_amount: bool) -> None:
    canon = CANONICAL[guess.entity]
    own = entity_id_field(guess.entity)
    taken: set[str] = set()
    for name, spec in canon.items():
        if spec.zoho_default is not None:
            continue  # Created_Time, unless the admin names another field
        if guess.entity == "appointment" and name in CRM_AMOUNT_FIELDS and not crm_amount:
            continue  # billed through CRM money modules: these would bill twice
        found: FieldGuess | None
        if name == own:
            found = _own_id(guess)
        elif spec.references is not None:
            found = _reference(guess, name, spec, by_entity, taken)
        else:
            found = _by_name(guess.meta, name, spec.kind, taken)
        if found is None or found.zoho in taken:
            continue
        taken.add(found.zoho)
        guess.fields.append(found)
        meta = guess.meta.field(found.zoho)
        if meta is not None:
            if meta.is_formula:
                guess.formula_fields.append(meta.api_name)
            value_map = _value_map(meta, name, spec)
            if value_map is not None:
                guess.value_maps.append(value_map)
    if guess.meta.api_name == USERS and guess.maps("modalities"):
        guess.ignore_without.append("modalities")
    if guess.entity == "appointment" and crm_amount:
        _drop_partial_billing(guess)


def _own_id(guess: ModuleGuess) -> FieldGuess:
    names = OWN_ID_NAMES.get(guess.entity, ())
    for rank_name in names:
        for item in guess.meta.fields:
            if key(item.api_name) == rank_name and item.value_type in KIND_TYPES["id"]:
                return FieldGuess(item.api_name, entity_id_field(guess.entity), "its name")
    return FieldGuess(RECORD_ID, entity_id_field(guess.entity), "the record's own Zoho id")


def _reference(
    guess: ModuleGuess,
    name: str,
    spec: CanonicalField,
    by_entity: dict[Entity, str],
    taken: set[str],
) -> FieldGuess | None:
    """A lookup to the module of the entity named first, then a field by its name (a
    picklist of branch names, a code as text)."""
    assert spec.references is not None  # noqa: S101 - only references come here
    target = by_entity.get(spec.references)
    names = FIELD_NAMES.get(name, ())
    fields = [item for item in guess.meta.fields if item.api_name not in taken]
    lookups = [
        item
        for item in fields
        if (item.data_type in LOOKUP_TYPES and item.lookup_module == target)
        or (target == USERS and item.data_type in USER_LOOKUP_TYPES and _named(item, names))
    ]
    lookups.sort(key=lambda item: (not _named(item, names), fields.index(item)))
    if target is not None and lookups:
        chosen = lookups[0]
        return FieldGuess(chosen.api_name, name, f"its lookup to {target}", lookup=target)
    for rank_name in names:
        for item in fields:
            if rank_name not in (key(item.api_name), key(item.label)):
                continue
            if item.data_type in LOOKUP_TYPES | USER_LOOKUP_TYPES:
                pointed = item.lookup_module or USERS
                guess.notes.append(
                    f"{item.api_name} looks up {pointed}, which is not mapped as "
                    f"{spec.references}: map that module to feed {name} from it"
                )
                return None
            if item.value_type in KIND_TYPES["id"]:
                return FieldGuess(item.api_name, name, "its name")
    return None


def _by_name(module: ModuleMeta, name: str, kind: Kind, taken: set[str]) -> FieldGuess | None:
    allowed = KIND_TYPES[kind]
    for rank_name in FIELD_NAMES.get(name, ()):
        for item in module.fields:
            if item.api_name in taken or item.value_type not in allowed:
                continue
            if key(item.api_name) == rank_name:
                return FieldGuess(item.api_name, name, "its name")
            if key(item.label) == rank_name:
                return FieldGuess(item.api_name, name, f'its label "{item.label}"')
    return None


def _named(item: FieldMeta, names: tuple[str, ...]) -> bool:
    return key(item.api_name) in names or key(item.label) in names


def _drop_partial_billing(guess: ModuleGuess) -> None:
    """Billing from the appointment's amount needs what was paid (the amount paid or a
    payment status); without either, who pays and how would only break the mapping."""
    if guess.maps("paid_minor") or guess.maps("payment_status"):
        return
    dropped = [item for item in guess.fields if item.canonical in CRM_AMOUNT_FIELDS]
    for item in dropped:
        guess.fields.remove(item)
        guess.value_maps = [vm for vm in guess.value_maps if vm.zoho != item.zoho]
        guess.formula_fields = [name for name in guess.formula_fields if name != item.zoho]
        guess.notes.append(
            f"{item.zoho} looked like {item.canonical}, left out: billing from the "
            "appointment's amount also needs the amount paid or a payment status"
        )


# -- picklists ----------------------------------------------------------------------


def _value_map(meta: FieldMeta, name: str, spec: CanonicalField) -> ValueMapGuess | None:
    """Picklist values in canonical terms: guessed where a fixed list of values allows,
    left to decide (with a suggestion) where the values are ours to name (branch and
    modality codes). Free text and values already valid ids need no map."""
    if not meta.picklist or spec.kind not in MAPPABLE_KINDS or spec.kind == "text":
        return None
    if spec.choices:
        entries = tuple((value, _choice(value, spec.choices), "") for value in meta.picklist)
        return ValueMapGuess(name, meta.api_name, entries, spec.choices)
    if spec.kind == "timezone":
        if all(_is_zone(value) for value in meta.picklist):
            return None
        entries = tuple((value, value if _is_zone(value) else None, "") for value in meta.picklist)
        return ValueMapGuess(name, meta.api_name, entries, ())
    if all(_is_identifier(value) for value in meta.picklist):
        return None
    entries = tuple(
        (value, value, "") if _is_identifier(value) else (value, None, _slug(value))
        for value in meta.picklist
    )
    return ValueMapGuess(name, meta.api_name, entries, ())


def _choice(value: str, choices: tuple[str, ...]) -> str | None:
    wanted = key(value)
    for choice in choices:
        if wanted == key(choice):
            return choice
    for choice in choices:
        if wanted in VALUE_NAMES.get(choice, ()):
            return choice
    return None


def _is_identifier(value: str) -> bool:
    try:
        _IDENTIFIER.validate_python(value)
    except ValidationError:
        return False
    return True


def _is_zone(value: str) -> bool:
    return _zone(value) is not None


def _zone(name: str | None) -> str | None:
    if not name or "/" not in name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _slug(value: str) -> str:
    """A suggested code for a picklist value: ``CT Scan`` -> ``ct-scan``."""
    words = "".join(char.lower() if char.isalnum() else " " for char in value).split()
    return "-".join(words)[:64]


# -- what is left -------------------------------------------------------------------


def _missing(guess: ModuleGuess, by_entity: dict[Entity, str]) -> list[str]:
    """The canonical fields the entity's events need that no field feeds (a field read
    from a mapped entity, such as an appointment's modality from its procedure, is not
    needed here)."""
    own = entity_id_field(guess.entity)
    return [
        name
        for name, spec in CANONICAL[guess.entity].items()
        if spec.needed
        and name != own
        and spec.zoho_default is None
        and not guess.maps(name)
        and not (spec.derived_via is not None and REFERENCES[spec.derived_via] in by_entity)
    ]


def _billing(chosen: list[ModuleGuess], money: list[str]) -> tuple[Billing, str]:
    if money:
        return "crm_records", f"invoices, payments or refunds are CRM modules ({', '.join(money)})"
    paid = [
        guess.name
        for guess in chosen
        if guess.entity == "appointment"
        and (guess.maps("paid_minor") or guess.maps("payment_status"))
    ]
    if paid:
        return "crm_amount", f"the appointment's amount is the bill ({paid[0]} says what was paid)"
    return "none", "no invoice module and no payment field found"
