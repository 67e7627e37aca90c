-- Records from an integration (Zoho CRM) that could not become events: one row per
-- record, at its latest quarantine, until a later version of it is synced
-- (resolved_at). Never a raw value: the record itself travels only in the event
-- envelope's personal part, kept apart from the payload and never brought here (that
-- part is not encrypted yet: per-patient encryption is still to come); reason names the
-- kind of problem and the field only.
-- key: tenant_id, source, module, record_id
create table if not exists integration_quarantine (
    tenant_id string not null,
    source string not null,
    module string not null,
    record_id string not null,
    modified_time timestamp,
    reason string not null,
    field string,
    mapping_version int64,
    quarantined_at timestamp not null,
    resolved_at timestamp,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(quarantined_at)
cluster by tenant_id, module
