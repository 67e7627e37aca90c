-- rpt_nps, materialized per tenant by the refresh-reports job (and by a read that finds
-- it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, branch_id, day
create table if not exists mat_rpt_nps (
    tenant_id string not null,
    branch_id string,
    day date,
    responses int64,
    promoters int64,
    passives int64,
    detractors int64,
    nps float64
)
partition by day
cluster by tenant_id, branch_id
