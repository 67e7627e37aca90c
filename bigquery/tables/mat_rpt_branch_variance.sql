-- rpt_branch_variance, materialized per tenant by the refresh-reports job (and by a
-- read that finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, branch_id, local_date, currency
create table if not exists mat_rpt_branch_variance (
    tenant_id string not null,
    branch_id string,
    local_date date,
    currency string,
    recorded_payments int64,
    recorded_minor int64,
    captures int64,
    captured_minor int64,
    variance_minor int64,
    fee_minor int64,
    settled_captures int64,
    settled_net_minor int64,
    awaiting_settlement_captures int64,
    awaiting_settlement_net_minor int64
)
partition by local_date
cluster by tenant_id, branch_id
