-- Report 3: waiting time (booking lead time) per tenant, branch, modality and week, over
-- the visits that took place: appointments arrived or completed. No-shows are reported
-- apart (their own columns); cancelled appointments and those still booked (never
-- marked arrived, completed or no-show) are left out.
-- Lead time of an appointment = start_at - booked_at, in hours: from the moment the
-- booking was made (the event's occurred_at) to the start of the appointment.
--   week              the Monday of the ISO week of start_date (the branch's own calendar
--                     date of the start, so 00:30 IST on a Monday is that Monday's week)
--   appointments      visits that took place, starting in the week (arrived, completed)
--   median_lead_hours exact, continuous 50th percentile of the visits' lead times
--                     (interpolated between the two middle values), float64 rounded to
--                     2 decimals; null when the week had no visit, as are the next three
--   p90_lead_hours    exact, continuous 90th percentile, rounded to 2 decimals
--   mean_lead_hours   mean lead time, rounded to 2 decimals
--   same_day_share    share of the visits with a lead time under 24 hours, rounded to 4
--                     decimals
--   no_shows          no-shows starting in the week (not in the figures above)
--   median_no_show_lead_hours  the same median over the no-shows' lead times (null: none)
-- A week has a row when it had a visit or a no-show. When a patient cancels and books
-- again, the new booking is a new appointment and counts once, with its own booked_at.
-- A rescheduled appointment keeps its original booked_at: its lead time runs from the
-- first booking to the new start, so moving a slot later lengthens the wait it reports.
create or replace view rpt_waiting_time as
with appointments as (
    select
        tenant_id,
        branch_id,
        modality,
        status,
        cast(date_trunc(start_date, week (monday)) as date) as week,
        -- Whole seconds, truncated as timestamp_diff(..., second) does, from the
        -- microsecond difference: the same numbers, without a calendar-aware diff.
        cast(trunc((unix_micros(start_at) - unix_micros(booked_at)) / 1000000) as int64)
        / 3600.0 as lead_hours
    from fct_appointment
    where status in ('arrived', 'completed', 'no_show')
),

leads as (
    select
        tenant_id,
        branch_id,
        modality,
        week,
        if(status = 'no_show', null, lead_hours) as visit_lead_hours,
        if(status = 'no_show', lead_hours, null) as no_show_lead_hours
    from appointments
),

-- percentile_cont is analytic-only in BigQuery: every row carries its group's value
-- (nulls ignored: the visits' over the visits, the no-shows' over the no-shows).
percentiles as (
    select
        *,
        percentile_cont(visit_lead_hours, 0.5) over (
            partition by tenant_id, branch_id, modality, week
        ) as median_lead_hours,
        percentile_cont(visit_lead_hours, 0.9) over (
            partition by tenant_id, branch_id, modality, week
        ) as p90_lead_hours,
        percentile_cont(no_show_lead_hours, 0.5) over (
            partition by tenant_id, branch_id, modality, week
        ) as median_no_show_lead_hours
    from leads
),

final as (
    select
        tenant_id,
        branch_id,
        modality,
        week,
        count(visit_lead_hours) as appointments,
        round(any_value(median_lead_hours), 2) as median_lead_hours,
        round(any_value(p90_lead_hours), 2) as p90_lead_hours,
        round(avg(visit_lead_hours), 2) as mean_lead_hours,
        round(safe_divide(countif(visit_lead_hours < 24), count(visit_lead_hours)), 4)
            as same_day_share,
        count(no_show_lead_hours) as no_shows,
        round(any_value(median_no_show_lead_hours), 2) as median_no_show_lead_hours
    from percentiles
    group by tenant_id, branch_id, modality, week
)

select * from final
