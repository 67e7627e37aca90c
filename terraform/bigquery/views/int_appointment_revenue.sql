-- THE definition of an appointment's revenue, used by every report (in integer minor
-- units of the appointment's currency; one row per appointment that has any money):
--   prepaid_minor      deposits and payments taken on the appointment itself (portal,
--                      front desk), net of their refunds;
--   invoiced_minor     what its invoices bill (the balance after what was prepaid);
--   billed_minor       prepaid_minor + invoiced_minor: the appointment's charge;
--   paid_minor         every payment of the appointment and its invoices, net of every
--                      refund and chargeback to date (a refund made after month end
--                      lowers the month of the service, not the month of the refund);
--   outstanding_minor  invoiced less what was paid against the invoices (never < 0).
-- Revenue belongs to the appointment: reports place it on the appointment's own
-- calendar day (fct_appointment.start_date), so a late payment or refund restates that
-- month. payer_type is that of the appointment's latest invoice (null: no invoice).
with payments as (
    select
        tenant_id,
        appointment_id,
        currency,
        source,
        cast(sum(amount_minor) as int64) as paid_minor
    from `${project}.${dataset}.fct_payment`
    group by tenant_id, appointment_id, currency, source
),

refunds as (
    select
        tenant_id,
        appointment_id,
        currency,
        source,
        cast(sum(amount_minor) as int64) as refunded_minor
    from `${project}.${dataset}.fct_refund`
    group by tenant_id, appointment_id, currency, source
),

invoices as (
    select
        tenant_id,
        appointment_id,
        currency,
        cast(sum(amount_minor) as int64) as invoiced_minor,
        any_value(payer_type having max issued_at) as payer_type
    from `${project}.${dataset}.fct_invoice`
    group by tenant_id, appointment_id, currency
),

money as (
    select
        coalesce(payments.tenant_id, refunds.tenant_id) as tenant_id,
        coalesce(payments.appointment_id, refunds.appointment_id) as appointment_id,
        coalesce(payments.currency, refunds.currency) as currency,
        coalesce(payments.source, refunds.source) as source,
        coalesce(payments.paid_minor, 0) - coalesce(refunds.refunded_minor, 0) as net_minor
    from payments
    full outer join refunds
        on
            payments.tenant_id = refunds.tenant_id
            and payments.appointment_id = refunds.appointment_id
            and payments.currency = refunds.currency
            and payments.source = refunds.source
),

by_appointment as (
    select
        tenant_id,
        appointment_id,
        currency,
        cast(sum(if(source = 'appointment', net_minor, 0)) as int64) as prepaid_minor,
        cast(sum(if(source = 'invoice', net_minor, 0)) as int64) as paid_on_invoices_minor,
        cast(sum(net_minor) as int64) as paid_minor
    from money
    group by tenant_id, appointment_id, currency
),

final as (
    select
        coalesce(by_appointment.tenant_id, invoices.tenant_id) as tenant_id,
        coalesce(by_appointment.appointment_id, invoices.appointment_id) as appointment_id,
        coalesce(by_appointment.currency, invoices.currency) as currency,
        invoices.payer_type,
        coalesce(by_appointment.prepaid_minor, 0) as prepaid_minor,
        coalesce(invoices.invoiced_minor, 0) as invoiced_minor,
        coalesce(by_appointment.prepaid_minor, 0)
        + coalesce(invoices.invoiced_minor, 0) as billed_minor,
        coalesce(by_appointment.paid_minor, 0) as paid_minor,
        greatest(
            coalesce(invoices.invoiced_minor, 0)
            - coalesce(by_appointment.paid_on_invoices_minor, 0),
            0
        ) as outstanding_minor
    from by_appointment
    full outer join invoices
        on
            by_appointment.tenant_id = invoices.tenant_id
            and by_appointment.appointment_id = invoices.appointment_id
            and by_appointment.currency = invoices.currency
)

select * from final
