-- The working hours of every registration of a clinician (as hist_clinician, one
-- version per registration, valid_from its occurred_at): one row per working interval,
-- weekday 0 = Monday, minutes from midnight on the branch's wall clock (end exclusive).
-- int_clinician_day turns them into available minutes per day.
-- key: tenant_id, clinician_id, valid_from, weekday, start_minute
create table if not exists hist_working_hours (
    tenant_id string not null,
    branch_id string not null,
    clinician_id string not null,
    valid_from timestamp not null,
    weekday int64 not null,
    start_minute int64 not null,
    end_minute int64 not null,
    last_event_id string not null
)
partition by date(valid_from)
cluster by tenant_id, branch_id
