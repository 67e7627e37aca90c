-- Headline figures of the branch variance report (rpt_branch_variance): one tenant, the
-- days from from_date to to_date (local_date, the branch's calendar), the branches asked
-- for, per currency, read from the report's own rows, whose counts and money add up:
--   recorded_payments, recorded_minor, captures, captured_minor, variance_minor,
--   fee_minor, settled_captures, settled_net_minor, awaiting_settlement_captures,
--   awaiting_settlement_net_minor
--                      the sums of the report's columns
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id, by_local_date (booleans: a
-- row per branch or day, and currency, instead of one per currency for the whole range).
-- by: branch_id, local_date
with scoped as (
    select
        if(@by_branch_id, branch_id, null) as group_branch_id,
        if(@by_local_date, local_date, null) as group_local_date,
        currency,
        recorded_payments,
        recorded_minor,
        captures,
        captured_minor,
        variance_minor,
        fee_minor,
        settled_captures,
        settled_net_minor,
        awaiting_settlement_captures,
        awaiting_settlement_net_minor
    from rpt_branch_variance
    where
        tenant_id = @tenant_id
        and local_date between @from_date and @to_date
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

final as (
    select
        group_branch_id as branch_id,
        group_local_date as local_date,
        currency,
        cast(sum(recorded_payments) as int64) as recorded_payments,
        cast(sum(recorded_minor) as int64) as recorded_minor,
        cast(sum(captures) as int64) as captures,
        cast(sum(captured_minor) as int64) as captured_minor,
        cast(sum(variance_minor) as int64) as variance_minor,
        cast(sum(fee_minor) as int64) as fee_minor,
        cast(sum(settled_captures) as int64) as settled_captures,
        cast(sum(settled_net_minor) as int64) as settled_net_minor,
        cast(sum(awaiting_settlement_captures) as int64) as awaiting_settlement_captures,
        cast(sum(awaiting_settlement_net_minor) as int64) as awaiting_settlement_net_minor
    from scoped
    group by group_branch_id, group_local_date, currency
)

select * from final
