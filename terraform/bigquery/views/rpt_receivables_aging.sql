-- Receivables aging: what payers still owe on invoices, per tenant, branch, currency
-- and as-of date, in integer minor units (never summed across currencies).
--
-- The balance of an invoice as of a date D (to the end of that day, on the branch's
-- calendar): amount_minor - its payments paid on or before D + its refunds made on or
-- before D. An invoice counts as of D when it was issued on or before D and its
-- balance is above zero. Payments taken against an appointment without an invoice are
-- not receivables (see rpt_leakage for what was never billed).
--
-- Age counts from due_on, not from the issue date: days_past_due = D - due_on. The
-- payer's terms (self-pay on the day, an insurer's 30 or 60 days) are in due_on, so an
-- invoice is only aged once it is overdue. Buckets: not_due (D before due_on), 0-30
-- (due on D, up to 30 days overdue), 31-60, 61-90 and over 90 days past due_on.
--
-- As-of dates: the last day of every complete month from the month of the first
-- invoice, and today (current_date, UTC). Month ends are fixed once past, so the same
-- events always give the same rows for them; filter on as_of_date to read one.
with first_month as (
    select cast(date_trunc(min(issued_date), month) as date) as first_day
    from `${project}.${dataset}.int_invoice`
),

as_of_dates as (
    select
        cast(date_sub(date_add(month_start, interval 1 month), interval 1 day) as date)
            as as_of_date
    from
        first_month,
        unnest(generate_date_array(first_month.first_day, current_date(), interval 1 month))
            as month_start
    where date_add(month_start, interval 1 month) <= current_date()
    union all
    select current_date() as as_of_date
),

movements as (
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
),

balances as (
    select
        as_of_dates.as_of_date,
        movements.tenant_id,
        movements.invoice_id,
        sum(movements.amount_minor) as balance_minor
    from as_of_dates
    cross join movements
    where movements.on_date <= as_of_dates.as_of_date
    group by as_of_dates.as_of_date, movements.tenant_id, movements.invoice_id
),

aged as (
    select
        balances.as_of_date,
        balances.balance_minor,
        invoices.tenant_id,
        invoices.branch_id,
        invoices.currency,
        date_diff(balances.as_of_date, invoices.due_on, day) as days_past_due
    from balances
    inner join `${project}.${dataset}.int_invoice` as invoices
        on
            balances.tenant_id = invoices.tenant_id
            and balances.invoice_id = invoices.invoice_id
    where invoices.issued_date <= balances.as_of_date and balances.balance_minor > 0
),

final as (
    select
        tenant_id,
        branch_id,
        currency,
        as_of_date,
        count(*) as invoices,
        sum(balance_minor) as outstanding_minor,
        sum(if(days_past_due < 0, balance_minor, 0)) as not_due_minor,
        sum(if(days_past_due between 0 and 30, balance_minor, 0)) as days_0_30_minor,
        sum(if(days_past_due between 31 and 60, balance_minor, 0)) as days_31_60_minor,
        sum(if(days_past_due between 61 and 90, balance_minor, 0)) as days_61_90_minor,
        sum(if(days_past_due > 90, balance_minor, 0)) as days_over_90_minor
    from aged
    group by tenant_id, branch_id, currency, as_of_date
)

select * from final
