-- Every movement of an invoice's balance, dated on the branch's calendar: the invoice
-- itself (+amount), its credit notes (-), its payments (-) and their refunds (+), with
-- the invoice's branch, currency and due date. An invoice's balance as of a day D is
-- the sum of its movements on or before D (as rpt_receivables_aging computes it for
-- its as-of dates; the receivables alert for any D).
with movements as (
    select
        tenant_id,
        invoice_id,
        issued_date as on_date,
        amount_minor
    from `${project}.${dataset}.int_invoice`
    union all
    select
        tenant_id,
        source_id as invoice_id,
        paid_date as on_date,
        -amount_minor as amount_minor
    from `${project}.${dataset}.int_payment`
    where source = 'invoice'
    union all
    select
        tenant_id,
        source_id as invoice_id,
        refunded_date as on_date,
        amount_minor
    from `${project}.${dataset}.int_refund`
    where source = 'invoice'
    union all
    select
        tenant_id,
        invoice_id,
        credited_date as on_date,
        -amount_minor as amount_minor
    from `${project}.${dataset}.int_credit_note`
),

final as (
    select
        invoices.tenant_id,
        invoices.branch_id,
        invoices.currency,
        invoices.invoice_id,
        invoices.due_on,
        movements.on_date,
        movements.amount_minor
    from movements
    inner join `${project}.${dataset}.int_invoice` as invoices
        on
            movements.tenant_id = invoices.tenant_id
            and movements.invoice_id = invoices.invoice_id
)

select * from final
