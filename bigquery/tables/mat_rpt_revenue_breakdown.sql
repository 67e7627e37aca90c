-- rpt_revenue_breakdown, materialized per tenant by the refresh-reports job (and by a
-- read that finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, branch_id, month, modality, clinician_id, payer_type, currency
create table if not exists mat_rpt_revenue_breakdown (
    tenant_id string not null,
    branch_id string,
    month date,
    modality string,
    clinician_id string,
    clinician_name string,
    payer_type string,
    currency string,
    appointments int64,
    billed_minor int64,
    invoiced_minor int64,
    credited_minor int64,
    prepaid_minor int64,
    paid_minor int64,
    outstanding_minor int64,
    collection_rate float64
)
partition by month
cluster by tenant_id, branch_id
