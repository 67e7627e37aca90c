-- When each materialized report (mat_<view>) was last computed for a tenant, and from
-- which state of the warehouse facts: facts_version is the sum of the tenant's
-- warehouse_facts checkpoint versions read in the same transaction, which grows with
-- every event the facts projection applies. A report is stale when that sum has moved
-- on or when it was refreshed on an earlier UTC day (reports with an as-of today).
-- key: tenant_id, report
create table if not exists report_refresh (
    tenant_id string not null,
    report string not null,
    facts_version int64 not null,
    refreshed_at timestamp not null
)
cluster by tenant_id
