-- rpt_receivables_aging, materialized per tenant by the refresh-reports job (and by a
-- read that finds it stale: mymedic.reports.materialize). Same columns, same meaning;
-- its as-of "today" row is that of the day it was refreshed (a refresh from an earlier
-- UTC day is stale).
-- key: tenant_id, branch_id, currency, as_of_date
create table if not exists mat_rpt_receivables_aging (
    tenant_id string not null,
    branch_id string,
    currency string,
    as_of_date date,
    invoices int64,
    outstanding_minor int64,
    not_due_minor int64,
    days_0_30_minor int64,
    days_31_60_minor int64,
    days_61_90_minor int64,
    days_over_90_minor int64
)
partition by as_of_date
cluster by tenant_id, branch_id
