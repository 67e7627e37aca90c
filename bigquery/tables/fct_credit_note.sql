-- One row per credit note applied to an invoice, in integer minor units: part of what
-- the invoice billed is no longer owed (a partial service, a goodwill discount, a
-- refund the clinic does not claim back). origin says where it was issued: 'console'
-- (the issue_credit_note command), 'zoho_books' (a Books credit note, one row per
-- invoice it was applied to) or 'refund' (a gateway refund under the tenant's billing
-- policy; refund_id names it). Its reason is personal free text and never reaches the
-- warehouse. credited_date is the calendar date of credited_at in the branch's time
-- zone (as fct_payment's paid_date). Every report dates credit notes by it.
-- key: tenant_id, invoice_id, credit_note_id
create table if not exists fct_credit_note (
    tenant_id string not null,
    branch_id string not null,
    source string not null,
    source_id string not null,
    invoice_id string not null,
    credit_note_id string not null,
    appointment_id string not null,
    patient_id string not null,
    origin string not null,
    refund_id string,
    amount_minor int64 not null,
    currency string not null,
    credited_at timestamp not null,
    credited_date date,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by credited_date
cluster by tenant_id, branch_id
