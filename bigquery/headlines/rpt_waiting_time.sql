-- Headline figures of report 3 (rpt_waiting_time): one tenant, the weeks whose Monday is
-- from from_date to to_date (the report's week column), the branches asked for, over
-- every appointment of the range at once, with the report's definitions: visits that
-- took place (arrived, completed), no-shows apart, lead time = start_at - booked_at in
-- hours (whole seconds). Never an average of the report's weekly medians:
--   appointments      visits
--   median_lead_hours exact, continuous 50th percentile of all the visits' lead times
--                     (percentile_cont, as the report), rounded to 2 decimals
--   p90_lead_hours    the same 90th percentile
--   mean_lead_hours   mean lead time of the visits, rounded to 2 decimals
--   same_day_share    visits booked less than 24 hours ahead over all visits (the ratio
--                     of the two counts), rounded to 4 decimals
--   no_shows          no-shows; median_no_show_lead_hours the median of their lead times
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id, by_modality, by_week
-- (booleans: a row per branch, modality or week instead of one for the whole range).
-- by: branch_id, modality, week
with appointments as (
    select
        branch_id,
        modality,
        status,
        cast(date_trunc(start_date, week (monday)) as date) as week,
        -- Whole seconds, truncated, as the report computes them.
        cast(trunc((unix_micros(start_at) - unix_micros(booked_at)) / 1000000) as int64)
        / 3600.0 as lead_hours
    from fct_appointment
    where
        tenant_id = @tenant_id
        and status in ('arrived', 'completed', 'no_show')
        -- Every appointment of the range's weeks, and a few more: the partitions to read.
        and start_date between @from_date and date_add(@to_date, interval 6 day)
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

leads as (
    select
        if(@by_branch_id, branch_id, null) as group_branch_id,
        if(@by_modality, modality, null) as group_modality,
        if(@by_week, week, null) as group_week,
        if(status = 'no_show', null, lead_hours) as visit_lead_hours,
        if(status = 'no_show', lead_hours, null) as no_show_lead_hours
    from appointments
    where week between @from_date and @to_date
),

-- percentile_cont is analytic-only in BigQuery: every row carries its group's value
-- (nulls ignored: the visits' over the visits, the no-shows' over the no-shows).
percentiles as (
    select
        *,
        percentile_cont(visit_lead_hours, 0.5) over (
            partition by group_branch_id, group_modality, group_week
        ) as median_lead_hours,
        percentile_cont(visit_lead_hours, 0.9) over (
            partition by group_branch_id, group_modality, group_week
        ) as p90_lead_hours,
        percentile_cont(no_show_lead_hours, 0.5) over (
            partition by group_branch_id, group_modality, group_week
        ) as median_no_show_lead_hours
    from leads
),

final as (
    select
        group_branch_id as branch_id,
        group_modality as modality,
        group_week as week,
        count(visit_lead_hours) as appointments,
        round(any_value(median_lead_hours), 2) as median_lead_hours,
        round(any_value(p90_lead_hours), 2) as p90_lead_hours,
        round(avg(visit_lead_hours), 2) as mean_lead_hours,
        round(safe_divide(countif(visit_lead_hours < 24), count(visit_lead_hours)), 4)
            as same_day_share,
        count(no_show_lead_hours) as no_shows,
        round(any_value(median_no_show_lead_hours), 2) as median_no_show_lead_hours
    from percentiles
    group by group_branch_id, group_modality, group_week
)

select * from final
