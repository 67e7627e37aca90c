-- One row per payment a gateway (Stripe, Razorpay) captured, as the gateway reported it,
-- in integer minor units of its currency: amount_minor captured, fee_minor the gateway's
-- fee including the tax on it (tax_minor), both null when the gateway did not say,
-- net_minor = amount_minor - fee (a fee not stated counts as 0). branch_id is the
-- branch our metadata named, 'unassigned' when it named none; payment_id is ours (the
-- payment_ref when none was set). A later capture fact of the same payment replaces the
-- row. No settlement columns: a settlement may be delivered before or after the capture,
-- so int_gateway_payment joins them from fct_settlement_item / fct_settlement_payment.
-- captured_date is the calendar date of captured_at in the branch's time zone (as
-- fct_payment's paid_date; UTC for 'unassigned'). Reports date captures by it.
-- key: tenant_id, provider, payment_ref
create table if not exists fct_gateway_payment (
    tenant_id string not null,
    branch_id string not null,
    provider string not null,
    payment_ref string not null,
    payment_id string,
    appointment_id string,
    invoice_id string,
    kind string not null,
    method string,
    amount_minor int64 not null,
    fee_minor int64,
    tax_minor int64,
    net_minor int64 not null,
    currency string not null,
    captured_at timestamp not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null,
    captured_date date
)
partition by captured_date
cluster by tenant_id, branch_id
