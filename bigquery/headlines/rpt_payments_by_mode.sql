-- Headline figures of the payments report (rpt_payments_by_mode): one tenant, the days
-- from from_date to to_date (paid_date, the branch's calendar), the branches asked for,
-- per currency, read from the report's own rows, whose counts and money add up:
--   payments, amount_minor, deposits, deposit_minor  the sums of the report's columns
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id, by_paid_date, by_mode
-- (booleans: a row per branch, day or mode, and currency, instead of one per currency
-- for the whole range).
-- by: branch_id, paid_date, mode
with scoped as (
    select
        if(@by_branch_id, branch_id, null) as group_branch_id,
        if(@by_paid_date, paid_date, null) as group_paid_date,
        if(@by_mode, mode, null) as group_mode,
        currency,
        payments,
        amount_minor,
        deposits,
        deposit_minor
    from rpt_payments_by_mode
    where
        tenant_id = @tenant_id
        and paid_date between @from_date and @to_date
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

final as (
    select
        group_branch_id as branch_id,
        group_paid_date as paid_date,
        group_mode as mode,
        currency,
        cast(sum(payments) as int64) as payments,
        cast(sum(amount_minor) as int64) as amount_minor,
        cast(sum(deposits) as int64) as deposits,
        cast(sum(deposit_minor) as int64) as deposit_minor
    from scoped
    group by group_branch_id, group_paid_date, group_mode, currency
)

select * from final
