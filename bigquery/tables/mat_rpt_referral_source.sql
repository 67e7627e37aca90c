-- rpt_referral_source, materialized per tenant by the refresh-reports job (and by a
-- read that finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, referrer_type, referrer_id, currency, week
create table if not exists mat_rpt_referral_source (
    tenant_id string not null,
    referrer_type string,
    referrer_id string,
    currency string,
    week date,
    referrals int64,
    patients_referred int64,
    scans int64,
    new_patients int64,
    revenue_minor int64,
    trailing_30d_scans int64,
    trailing_30d_new_patients int64,
    trailing_30d_revenue_minor int64
)
partition by week
cluster by tenant_id, referrer_type
