-- Headline figures of the receivables aging report (rpt_receivables_aging): one tenant,
-- the branches asked for, per currency, as of ONE date: the latest as_of_date from
-- from_date to to_date that the report has for them (a balance as of a date is never
-- added up over dates). At that date the report's rows add up over branches:
--   as_of_date         the date the balances are as of
--   invoices, outstanding_minor, not_due_minor, days_0_30_minor, days_31_60_minor,
--   days_61_90_minor, days_over_90_minor
--                      the sums of the report's columns at that date
-- Balances at each month end are the report's own rows (add them up per as_of_date).
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id (boolean: a row per branch
-- and currency instead of one per currency).
-- by: branch_id
with scoped as (
    select *
    from rpt_receivables_aging
    where
        tenant_id = @tenant_id
        and as_of_date between @from_date and @to_date
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

latest as (
    select max(as_of_date) as as_of_date
    from scoped
),

balances as (
    select
        if(@by_branch_id, scoped.branch_id, null) as group_branch_id,
        scoped.as_of_date,
        scoped.currency,
        scoped.invoices,
        scoped.outstanding_minor,
        scoped.not_due_minor,
        scoped.days_0_30_minor,
        scoped.days_31_60_minor,
        scoped.days_61_90_minor,
        scoped.days_over_90_minor
    from scoped
    inner join latest
        on scoped.as_of_date = latest.as_of_date
),

final as (
    select
        group_branch_id as branch_id,
        as_of_date,
        currency,
        cast(sum(invoices) as int64) as invoices,
        cast(sum(outstanding_minor) as int64) as outstanding_minor,
        cast(sum(not_due_minor) as int64) as not_due_minor,
        cast(sum(days_0_30_minor) as int64) as days_0_30_minor,
        cast(sum(days_31_60_minor) as int64) as days_31_60_minor,
        cast(sum(days_61_90_minor) as int64) as days_61_90_minor,
        cast(sum(days_over_90_minor) as int64) as days_over_90_minor
    from balances
    group by group_branch_id, as_of_date, currency
)

select * from final
