-- One row per block of a clinician's time (leave, a meeting, a training), at its latest
-- state: start_at to end_at (end exclusive; it may span midnight and several days).
-- A block registered again with the same block_id replaces its times; an unblock keeps
-- the row with is_active false, so a lifted block removes nothing. The facts projection
-- writes it from clinician.time_blocked and clinician.time_unblocked (the clinician's
-- stream, in order); int_clinician_day takes the active blocks off the working hours.
-- branch_id is the clinician's branch, whose time zone places the block on its days.
-- key: tenant_id, clinician_id, block_id
create table if not exists fct_clinician_block (
    tenant_id string not null,
    branch_id string not null,
    clinician_id string not null,
    block_id string not null,
    start_at timestamp not null,
    end_at timestamp not null,
    is_active bool not null,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(start_at)
cluster by tenant_id, branch_id
