-- Revenue leakage per tenant, branch, currency and month (the branch's calendar), in
-- integer minor units (never summed across currencies). Each measure is dated by its
-- own fact, and "received" for an appointment is every payment on it (appointment and
-- invoice payments alike, fct_payment.appointment_id) less every refund of those:
--   unbilled: completed appointments (month of start_date) with no invoice and nothing
--     received: how many, and their price_minor.
--   underpaid: completed appointments with no invoice and something, but less than
--     the price, received: how many, and price_minor - received.
--   unpaid invoices: invoices (month of issue) with a balance today above zero:
--     amount_minor - its credit notes - its payments + their refunds (billed -
--     credited - paid net of refunds, as int_appointment_revenue's outstanding): how
--     many, and the balance. A refund with no credit note leaves the invoice owed
--     again, and it is counted here; with a credit note it is not. Their age is
--     rpt_receivables_aging's.
--   refunds: every refund of an appointment or invoice payment (month refunded).
--   credit notes: what credit notes took off invoices (month credited).
--   forfeitures: deposits kept under the cancellation policy (month forfeited).
-- Cancelled and no-show appointments are never unbilled: their money is the deposits,
-- refunded (refunds) or kept (forfeitures). Booked appointments not yet completed are
-- not leakage yet.
-- An appointment's money in every currency (int_appointment_revenue): what it received
-- (paid_minor) and whether it has any invoice (an invoice's payer_type is never null).
with received as (
    select
        tenant_id,
        appointment_id,
        sum(paid_minor) as received_minor,
        logical_or(payer_type is not null) as has_invoice
    from `${project}.${dataset}.int_appointment_revenue`
    group by tenant_id, appointment_id
),

not_invoiced as (
    select
        appointments.tenant_id,
        appointments.branch_id,
        appointments.currency,
        cast(date_trunc(appointments.start_date, month) as date) as month,
        appointments.price_minor,
        coalesce(received.received_minor, 0) as received_minor
    from `${project}.${dataset}.fct_appointment` as appointments
    left join received
        on
            appointments.tenant_id = received.tenant_id
            and appointments.appointment_id = received.appointment_id
    where appointments.status = 'completed' and not coalesce(received.has_invoice, false)
),

balances as (
    select
        tenant_id,
        invoice_id,
        sum(amount_minor) as balance_minor
    from (
        select
            tenant_id,
            invoice_id,
            amount_minor
        from `${project}.${dataset}.fct_invoice`
        union all
        select
            tenant_id,
            source_id as invoice_id,
            -amount_minor as amount_minor
        from `${project}.${dataset}.fct_payment`
        where source = 'invoice'
        union all
        select
            tenant_id,
            source_id as invoice_id,
            amount_minor
        from `${project}.${dataset}.fct_refund`
        where source = 'invoice'
        union all
        select
            tenant_id,
            invoice_id,
            -amount_minor as amount_minor
        from `${project}.${dataset}.fct_credit_note`
    ) as movements
    group by tenant_id, invoice_id
),

measures as (
    select
        tenant_id,
        branch_id,
        currency,
        month,
        'unbilled' as measure,
        price_minor as amount_minor
    from not_invoiced
    where received_minor <= 0
    union all
    select
        tenant_id,
        branch_id,
        currency,
        month,
        'underpaid' as measure,
        price_minor - received_minor as amount_minor
    from not_invoiced
    where received_minor > 0 and received_minor < price_minor
    union all
    select
        invoices.tenant_id,
        invoices.branch_id,
        invoices.currency,
        cast(date_trunc(invoices.issued_date, month) as date) as month,
        'unpaid_invoice' as measure,
        balances.balance_minor as amount_minor
    from `${project}.${dataset}.int_invoice` as invoices
    inner join balances
        on
            invoices.tenant_id = balances.tenant_id
            and invoices.invoice_id = balances.invoice_id
    where balances.balance_minor > 0
    union all
    select
        tenant_id,
        branch_id,
        currency,
        cast(date_trunc(refunded_date, month) as date) as month,
        'refund' as measure,
        amount_minor
    from `${project}.${dataset}.int_refund`
    union all
    select
        tenant_id,
        branch_id,
        currency,
        cast(date_trunc(credited_date, month) as date) as month,
        'credit_note' as measure,
        amount_minor
    from `${project}.${dataset}.int_credit_note`
    union all
    select
        tenant_id,
        branch_id,
        currency,
        cast(date_trunc(forfeited_date, month) as date) as month,
        'forfeiture' as measure,
        amount_minor
    from `${project}.${dataset}.int_forfeiture`
),

final as (
    select
        tenant_id,
        branch_id,
        currency,
        month,
        countif(measure = 'unbilled') as unbilled_appointments,
        sum(if(measure = 'unbilled', amount_minor, 0)) as unbilled_minor,
        countif(measure = 'underpaid') as underpaid_appointments,
        sum(if(measure = 'underpaid', amount_minor, 0)) as underpaid_minor,
        countif(measure = 'unpaid_invoice') as unpaid_invoices,
        sum(if(measure = 'unpaid_invoice', amount_minor, 0)) as unpaid_invoice_minor,
        countif(measure = 'refund') as refunds,
        sum(if(measure = 'refund', amount_minor, 0)) as refund_minor,
        countif(measure = 'credit_note') as credit_notes,
        sum(if(measure = 'credit_note', amount_minor, 0)) as credit_note_minor,
        countif(measure = 'forfeiture') as forfeitures,
        sum(if(measure = 'forfeiture', amount_minor, 0)) as forfeiture_minor
    from measures
    group by tenant_id, branch_id, currency, month
)

select * from final
