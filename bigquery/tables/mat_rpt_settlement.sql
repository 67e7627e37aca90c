-- rpt_settlement, materialized per tenant by the refresh-reports job (and by a read
-- that finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, provider, settlement_ref
create table if not exists mat_rpt_settlement (
    tenant_id string not null,
    provider string,
    settlement_ref string,
    settled_date date,
    status string,
    currency string,
    bank_reference string,
    account_tenant_id string,
    payments int64,
    payment_gross_minor int64,
    refunds int64,
    refund_deducted_minor int64,
    disputes int64,
    dispute_deducted_minor int64,
    adjustments int64,
    adjustment_deducted_minor int64,
    fee_minor int64,
    tax_minor int64,
    items int64,
    settled_minor int64,
    unmatched_items int64,
    unmatched_net_minor int64,
    amount_minor int64,
    difference_minor int64
)
partition by settled_date
cluster by tenant_id, provider
