-- rpt_leakage, materialized per tenant by the refresh-reports job (and by a read that
-- finds it stale: mymedic.reports.materialize). Same columns, same meaning.
-- key: tenant_id, branch_id, currency, month
create table if not exists mat_rpt_leakage (
    tenant_id string not null,
    branch_id string,
    currency string,
    month date,
    unbilled_appointments int64,
    unbilled_minor int64,
    underpaid_appointments int64,
    underpaid_minor int64,
    unpaid_invoices int64,
    unpaid_invoice_minor int64,
    refunds int64,
    refund_minor int64,
    credit_notes int64,
    credit_note_minor int64,
    forfeitures int64,
    forfeiture_minor int64
)
partition by month
cluster by tenant_id, branch_id
