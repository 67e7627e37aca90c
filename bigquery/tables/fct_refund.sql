-- One row per refund of a payment, in integer minor units: source 'appointment'
-- refunds an appointment payment or deposit, source 'invoice' a payment captured on an
-- invoice (appointment_id is then the invoice's appointment). payment_id names the
-- refunded fct_payment row (same tenant_id, source and source_id). refunded_date is
-- the calendar date of refunded_at in the branch's time zone (as fct_payment's
-- paid_date). Every report dates refunds by it.
-- key: tenant_id, source, source_id, refund_id
create table if not exists fct_refund (
    tenant_id string not null,
    branch_id string not null,
    source string not null,
    source_id string not null,
    refund_id string not null,
    payment_id string not null,
    appointment_id string not null,
    invoice_id string,
    patient_id string not null,
    amount_minor int64 not null,
    currency string not null,
    reason string not null,
    refunded_at timestamp not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null,
    refunded_date date
)
partition by refunded_date
cluster by tenant_id, branch_id
