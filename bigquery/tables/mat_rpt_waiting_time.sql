-- rpt_waiting_time, materialized per tenant by the refresh-reports job (and by a read
-- that finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, branch_id, modality, week
create table if not exists mat_rpt_waiting_time (
    tenant_id string not null,
    branch_id string,
    modality string,
    week date,
    appointments int64,
    median_lead_hours float64,
    p90_lead_hours float64,
    mean_lead_hours float64,
    same_day_share float64,
    no_shows int64,
    median_no_show_lead_hours float64
)
partition by week
cluster by tenant_id, branch_id
