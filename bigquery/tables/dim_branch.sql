-- Branches: their city, time zone and currency, at their latest registration. The
-- marts (int_payment, int_refund, int_forfeiture, int_invoice) turn the instant of a
-- payment, refund, forfeiture or invoice into the branch's calendar date with timezone
-- (in SQL, not in the projection, so that facts never depend on the order in which
-- events of different streams arrive).
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
