-- Receivables aging: what payers still owe on invoices, per tenant, branch, currency
-- and as-of date, in integer minor units (never summed across currencies).
--
-- The balance of an invoice as of a date D (to the end of that day, on the branch's
-- calendar): amount_minor - its credit notes credited on or before D - its payments
-- paid on or before D + their refunds made on or before D (billed - credited - paid
-- net of refunds). A refund with no credit note leaves the invoice owed again, and it
-- ages from its due date like any balance; a credit note takes it off. An invoice
-- counts as of D when it was issued on or before D and its balance is above zero.
-- Payments taken against an appointment without an invoice are not receivables (see
-- rpt_leakage for what was never billed).
--
-- Age counts from due_on, not from the issue date: days_past_due = D - due_on. The
-- payer's terms (self-pay on the day, an insurer's 30 or 60 days) are in due_on, so an
-- invoice is only aged once it is overdue. Buckets: not_due (D before due_on), 0-30
-- (due on D, up to 30 days overdue), 31-60, 61-90 and over 90 days past due_on.
--
-- As-of dates: the last day of every complete month from the month of the first
-- invoice, and today (current_date, UTC). Month ends are fixed once past, so the same
-- events always give the same rows for them; filter on as_of_date to read one.
-- Each invoice's balance is a running sum over its own movements (issue, credit notes,
-- payments, refunds), constant between two movement dates: an interval [valid_from, valid_to).
-- Each as-of date is joined only to the intervals with a balance above zero that hold
-- it (the month ends are generated from each interval's own bounds), so the work is
-- proportional to open balances, not to the history. Same as-of dates as above: a month
-- end before the first invoice's month holds no interval of an issued invoice.
with movements as (
    select
        tenant_id,
        invoice_id,
        issued_date as on_date,
        amount_minor,
        branch_id,
        currency,
        due_on,
        issued_date
    from `${project}.${dataset}.int_invoice`
    union all
    select
        tenant_id,
        source_id as invoice_id,
        paid_date as on_date,
        -amount_minor as amount_minor,
        cast(null as string) as branch_id,
        cast(null as string) as currency,
        cast(null as date) as due_on,
        cast(null as date) as issued_date
    from `${project}.${dataset}.int_payment`
    where source = 'invoice'
    union all
    select
        tenant_id,
        source_id as invoice_id,
        refunded_date as on_date,
        amount_minor,
        cast(null as string) as branch_id,
        cast(null as string) as currency,
        cast(null as date) as due_on,
        cast(null as date) as issued_date
    from `${project}.${dataset}.int_refund`
    where source = 'invoice'
    union all
    select
        tenant_id,
        invoice_id,
        credited_date as on_date,
        -amount_minor as amount_minor,
        cast(null as string) as branch_id,
        cast(null as string) as currency,
        cast(null as date) as due_on,
        cast(null as date) as issued_date
    from `${project}.${dataset}.int_credit_note`
),

-- The balance after each movement day: a running sum over the invoice's movements up
-- to and including that day (the default frame takes in the day's other movements),
-- constant until the next movement day: [valid_from, valid_to), open-ended after the
-- last. Of a day's several movements, all but the last get an empty interval. The
-- invoice's own row carries its attributes to its later days (running max). A movement
-- without a date never counts: it sorts last and opens no interval.
intervals as (
    select
        tenant_id,
        invoice_id,
        on_date as valid_from,
        coalesce(lead(on_date) over invoice_days, date '9999-12-31') as valid_to,
        cast(sum(amount_minor) over invoice_days as int64) as balance_minor,
        max(branch_id) over invoice_days as branch_id,
        max(currency) over invoice_days as currency,
        max(due_on) over invoice_days as due_on,
        max(issued_date) over invoice_days as issued_date
    from movements
    window invoice_days as (
        partition by tenant_id, invoice_id order by on_date asc nulls last
    )
),

-- Open intervals of issued invoices: an interval starts on a movement day, so one that
-- holds a day on or after the issue date starts on or after it.
open_intervals as (
    select *
    from intervals
    where
        balance_minor > 0
        and issued_date is not null
        and valid_from < valid_to
),

-- The last day of every complete month in [valid_from, valid_to), and today.
month_ends as (
    select
        open_intervals.*,
        cast(date_sub(month_start, interval 1 day) as date) as as_of_date
    from
        open_intervals,
        unnest(generate_date_array(
            cast(date_add(date_trunc(open_intervals.valid_from, month), interval 1 month) as date),
            cast(date_trunc(least(open_intervals.valid_to, current_date()), month) as date),
            interval 1 month
        )) as month_start
    union all
    select
        open_intervals.*,
        current_date() as as_of_date
    from open_intervals
    where
        open_intervals.valid_from <= current_date()
        and open_intervals.valid_to > current_date()
),

aged as (
    select
        as_of_date,
        balance_minor,
        tenant_id,
        branch_id,
        currency,
        date_diff(as_of_date, due_on, day) as days_past_due
    from month_ends
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
