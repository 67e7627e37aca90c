-- Every registration of a room, one row per version (as hist_clinician): the marts'
-- dim_room closes each version with the next one (SCD type 2). modalities is the
-- comma-separated list of modality codes the room serves, equipment that of the
-- equipment codes in it (scanner models, coils; null when none is listed).
-- key: tenant_id, room_id, valid_from
create table if not exists hist_room (
    tenant_id string not null,
    branch_id string not null,
    room_id string not null,
    display_name string not null,
    modalities string not null,
    equipment string,
    valid_from timestamp not null,
    last_event_id string not null
)
partition by date(valid_from)
cluster by tenant_id, branch_id
