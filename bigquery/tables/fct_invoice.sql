-- One row per invoice, as issued: what a payer (self_pay, insurer, corporate,
-- government) was billed for an appointment, in integer minor units of currency.
-- Payments against it are in fct_payment (source = 'invoice'), refunds in fct_refund.
-- issued_date is the calendar date of issued_at in the branch's time zone (as
-- fct_payment's paid_date). Every report dates invoices by it.
-- key: tenant_id, invoice_id
create table if not exists fct_invoice (
    tenant_id string not null,
    branch_id string not null,
    invoice_id string not null,
    appointment_id string not null,
    patient_id string not null,
    payer_type string not null,
    amount_minor int64 not null,
    currency string not null,
    issued_at timestamp not null,
    due_on date not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null,
    issued_date date
)
partition by issued_date
cluster by tenant_id, branch_id
