"""Checking a mapping against sample records before it is put to use: what would be
quarantined, which fields are never seen or always empty, which picklist values have no
value-map entry. Part of :mod:`mymedic.integrations.zoho.mapping`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mymedic.integrations.zoho.mapping_canonical import (
    CANONICAL,
    CREATED_TIME,
    ID_PREFIX,
    REFERENCES,
)
from mymedic.integrations.zoho.mapping_model import (
    MODIFIED_TIME,
    RECORD_ID_FIELDS,
    ModuleMapping,
    TenantMapping,
)
from mymedic.integrations.zoho.mapping_values import (
    Reject,
    Rejected,
    RejectKind,
    map_fields,
    plain_text,
    plain_value,
)
from mymedic.integrations.zoho.records import Entity


@dataclass(frozen=True)
class QuarantineCount:
    kind: RejectKind
    field: str | None
    count: int
    example: str  # one record's reason

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    except Rejected:
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
            except Rejected:
                continue
            if value is not None and plain_text(value) not in known:
                found.setdefault(name, set()).add(plain_text(value))
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
    mapped = spec.zoho_fields()
    ignored = RECORD_ID_FIELDS | {MODIFIED_TIME, CREATED_TIME}
    return ModuleReport(
        module=module,
        entity=spec.entity,
        records=len(samples),
        unmapped=tuple(
            sorted(
                name
                for name in seen
                if name not in spec.canonical_sources()
                and name not in ignored
                and not name.startswith("$")
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
