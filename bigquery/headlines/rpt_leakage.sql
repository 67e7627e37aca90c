-- Headline figures of the leakage report (rpt_leakage): one tenant, the months whose
-- first day is from from_date to to_date (the report's month column), the branches asked
-- for, per currency, read from the report's own rows: each appointment, invoice, refund,
-- credit note and forfeiture is counted in one row, so counts and money add up:
--   unbilled_appointments, unbilled_minor, underpaid_appointments, underpaid_minor,
--   unpaid_invoices, unpaid_invoice_minor, refunds, refund_minor, credit_notes,
--   credit_note_minor, forfeitures, forfeiture_minor
--                      the sums of the report's columns
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id, by_month (booleans: a row
-- per branch or month, and currency, instead of one per currency for the whole range).
-- by: branch_id, month
with scoped as (
    select
        if(@by_branch_id, branch_id, null) as group_branch_id,
        if(@by_month, month, null) as group_month,
        currency,
        unbilled_appointments,
        unbilled_minor,
        underpaid_appointments,
        underpaid_minor,
        unpaid_invoices,
        unpaid_invoice_minor,
        refunds,
        refund_minor,
        credit_notes,
        credit_note_minor,
        forfeitures,
        forfeiture_minor
    from rpt_leakage
    where
        tenant_id = @tenant_id
        and month between @from_date and @to_date
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

final as (
    select
        group_branch_id as branch_id,
        group_month as month,
        currency,
        cast(sum(unbilled_appointments) as int64) as unbilled_appointments,
        cast(sum(unbilled_minor) as int64) as unbilled_minor,
        cast(sum(underpaid_appointments) as int64) as underpaid_appointments,
        cast(sum(underpaid_minor) as int64) as underpaid_minor,
        cast(sum(unpaid_invoices) as int64) as unpaid_invoices,
        cast(sum(unpaid_invoice_minor) as int64) as unpaid_invoice_minor,
        cast(sum(refunds) as int64) as refunds,
        cast(sum(refund_minor) as int64) as refund_minor,
        cast(sum(credit_notes) as int64) as credit_notes,
        cast(sum(credit_note_minor) as int64) as credit_note_minor,
        cast(sum(forfeitures) as int64) as forfeitures,
        cast(sum(forfeiture_minor) as int64) as forfeiture_minor
    from scoped
    group by group_branch_id, group_month, currency
)

select * from final
