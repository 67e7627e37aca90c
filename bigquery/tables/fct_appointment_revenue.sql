-- The money of an appointment, per currency, kept up to date by the projection on every
-- payment, refund and invoice of it (int_appointment_revenue defines the measures), in
-- integer minor units of currency:
--   prepaid_minor           appointment-source payments (deposits, payments taken on the
--                           appointment) net of their refunds;
--   invoiced_minor          what its invoices bill;
--   paid_minor              every payment of the appointment and its invoices, net of
--                           every refund;
--   paid_on_invoices_minor  the invoice-source payments net of their refunds;
--   credited_minor          the credit notes of its invoices (null in a row written
--                           before credit notes were kept: none);
--   payer_type              that of the latest invoice (latest_invoice_at, its issue
--                           instant; null: no invoice).
-- A payment, refund, credit note or invoice written again (a later fact of the same
-- id) replaces its earlier amount, so a replay leaves the sums as they were.
-- key: tenant_id, appointment_id, currency
create table if not exists fct_appointment_revenue (
    tenant_id string not null,
    appointment_id string not null,
    currency string not null,
    payer_type string,
    latest_invoice_at timestamp,
    prepaid_minor int64 not null,
    invoiced_minor int64 not null,
    paid_minor int64 not null,
    paid_on_invoices_minor int64 not null,
    credited_minor int64,
    updated_at timestamp not null,
    last_event_id string not null
)
cluster by tenant_id, appointment_id
