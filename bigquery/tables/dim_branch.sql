-- Branches: their city, time zone and currency, as registered (a branch is registered
-- once). The projection dates money (fct_payment.paid_date, fct_refund.refunded_date,
-- fct_invoice.issued_date, fct_forfeiture.forfeited_date,
-- fct_gateway_payment.captured_date) by this time zone when it writes the row: it
-- follows the store's global order, in which a branch's registration comes before any
-- appointment, invoice or payment of the branch.
-- key: tenant_id, branch_id
create table if not exists dim_branch (
    tenant_id string not null,
    branch_id string not null,
    display_name string not null,
    city string not null,
    timezone string not null,
    currency string not null,
    registered_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null
)
cluster by tenant_id, branch_id
