-- One row per payment, gross of refunds (those are fct_refund), in integer minor units:
-- source 'appointment' is a deposit or payment taken against an appointment
-- (kind deposit | payment; invoice_id null), source 'invoice' a payment captured
-- against an invoice (kind payment; appointment_id is the invoice's appointment).
-- source_id is the appointment or invoice id: a payment id is unique within it.
-- paid_at is when it was paid (occurred_at), recorded_at when the platform recorded it;
-- paid_date is the calendar date of paid_at in the branch's time zone (dim_branch's,
-- at projection time: a branch is registered before anything is paid there; UTC for a
-- branch the warehouse does not know). Every report dates payments by it.
-- key: tenant_id, source, source_id, payment_id
create table if not exists fct_payment (
    tenant_id string not null,
    branch_id string not null,
    source string not null,
    source_id string not null,
    payment_id string not null,
    appointment_id string not null,
    invoice_id string,
    patient_id string not null,
    kind string not null,
    mode string not null,
    provider string not null,
    amount_minor int64 not null,
    currency string not null,
    paid_at timestamp not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null,
    paid_date date
)
partition by date(paid_at)
cluster by tenant_id, branch_id
