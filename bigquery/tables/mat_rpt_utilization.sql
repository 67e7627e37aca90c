-- rpt_utilization, materialized per tenant by the refresh-reports job (and by a read
-- that finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, branch_id, subject, subject_id, day
create table if not exists mat_rpt_utilization (
    tenant_id string not null,
    branch_id string,
    subject string,
    subject_id string,
    day date,
    available_minutes int64,
    booked_minutes int64,
    utilization float64,
    working_minutes int64,
    blocked_minutes int64
)
partition by day
cluster by tenant_id, branch_id
