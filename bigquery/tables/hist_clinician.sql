-- Every registration of a clinician, one row per version: a re-registration adds a
-- version valid from its occurred_at, never overwrites one (so a replay writes the same
-- rows in any order). The marts' dim_clinician closes each version with the next one
-- (SCD type 2). modalities is the comma-separated list of modality codes.
-- key: tenant_id, clinician_id, valid_from
create table if not exists hist_clinician (
    tenant_id string not null,
    branch_id string not null,
    clinician_id string not null,
    display_name string not null,
    modalities string not null,
    valid_from timestamp not null,
    last_event_id string not null
)
partition by date(valid_from)
cluster by tenant_id, branch_id
