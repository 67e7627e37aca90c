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

This module is the public entry point; the work is split over its siblings:
``mapping_canonical`` (the canonical fields of each entity), ``mapping_model`` (the
mapping file and loading it), ``mapping_values`` (reading Zoho values and records) and
``mapping_check`` (the check and its report). Import from here.
"""

from __future__ import annotations

from mymedic.integrations.zoho.mapping_canonical import (
    CANONICAL,
    CREATED_TIME,
    ID_PREFIX,
    REFERENCES,
    SEXES,
    CanonicalField,
    Kind,
    entity_id_field,
)
from mymedic.integrations.zoho.mapping_check import (
    MappingReport,
    ModuleReport,
    QuarantineCount,
    check_mapping,
)
from mymedic.integrations.zoho.mapping_model import (
    EXAMPLE_MAPPING,
    MAPPINGS_DIR,
    MODIFIED_TIME,
    RECORD_ID_FIELDS,
    Billing,
    BranchSpec,
    MappingError,
    ModuleMapping,
    TenantMapping,
    load_mapping,
    mapping_fields,
    module_mapping,
    parse_mapping,
)
from mymedic.integrations.zoho.mapping_values import (
    Ignored,
    Mapped,
    Plain,
    Reject,
    RejectKind,
    map_fields,
    plain_value,
)
from mymedic.integrations.zoho.records import MappedRecord, Quarantined, ZohoRecord

__all__ = [
    "CANONICAL",
    "CREATED_TIME",
    "EXAMPLE_MAPPING",
    "ID_PREFIX",
    "MAPPINGS_DIR",
    "MODIFIED_TIME",
    "RECORD_ID_FIELDS",
    "REFERENCES",
    "SEXES",
    "Billing",
    "BranchSpec",
    "CanonicalField",
    "Ignored",
    "Kind",
    "Mapped",
    "MappingError",
    "MappingReport",
    "ModuleMapping",
    "ModuleReport",
    "Plain",
    "QuarantineCount",
    "Reject",
    "RejectKind",
    "TenantMapping",
    "check_mapping",
    "entity_id_field",
    "load_mapping",
    "map_fields",
    "map_record",
    "mapping_fields",
    "module_mapping",
    "parse_mapping",
    "plain_value",
]


def map_record(mapping: TenantMapping, record: ZohoRecord) -> MappedRecord | Quarantined | Ignored:
    """One Zoho record version in canonical terms, or quarantined with the reason, or
    ignored (not this entity's record: ``ignore_without``)."""
    outcome = map_fields(mapping, record.module, record.record_id, record.fields)
    if isinstance(outcome, Ignored):
        return outcome
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
        lookups=outcome.lookups,
    )
