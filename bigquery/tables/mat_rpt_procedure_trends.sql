-- rpt_procedure_trends, materialized per tenant by the refresh-reports job (and by a
-- read that finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, branch_id, modality, procedure_code, currency, month
create table if not exists mat_rpt_procedure_trends (
    tenant_id string not null,
    branch_id string,
    modality string,
    procedure_code string,
    currency string,
    month date,
    scans int64,
    revenue_minor int64,
    scans_last_year int64,
    revenue_last_year_minor int64,
    scans_yoy_change float64,
    revenue_yoy_change float64
)
partition by month
cluster by tenant_id, branch_id
