-- Report 3: waiting time (booking lead time) per tenant, branch, modality and week.
-- Lead time of an appointment = start_at - booked_at, in hours: from the moment the
-- booking was made (the event's occurred_at) to the start of the appointment.
--   week              the Monday of the ISO week of start_date (the branch's own calendar
--                     date of the start, so 00:30 IST on a Monday is that Monday's week)
--   appointments      appointments starting in the week and not cancelled: booked,
--                     arrived, completed and no-show all count, as each had to wait
--   median_lead_hours exact, continuous 50th percentile of the lead times (interpolated
--                     between the two middle values), float64 rounded to 2 decimals
--   p90_lead_hours    exact, continuous 90th percentile, rounded to 2 decimals
--   mean_lead_hours   mean lead time, rounded to 2 decimals
--   same_day_share    share of the appointments with a lead time under 24 hours,
--                     rounded to 4 decimals
-- A cancelled appointment is left out; when the patient books again, the new booking is
-- a new appointment and counts once, with its own booked_at. A rescheduled appointment
-- keeps its original booked_at: its lead time runs from the first booking to the new
-- start, so moving a slot later lengthens the wait it reports.
with appointments as (
    select
        tenant_id,
        branch_id,
        modality,
        cast(date_trunc(start_date, week (monday)) as date) as week,
        -- Whole seconds, truncated as timestamp_diff(..., second) does, from the
        -- microsecond difference: the same numbers, without a calendar-aware diff.
        cast(trunc((unix_micros(start_at) - unix_micros(booked_at)) / 1000000) as int64)
        / 3600.0 as lead_hours
    from `${project}.${dataset}.fct_appointment`
    where status != 'cancelled'
),

-- percentile_cont is analytic-only in BigQuery: every row carries its group's value.
percentiles as (
    select
        *,
        percentile_cont(lead_hours, 0.5) over (
            partition by tenant_id, branch_id, modality, week
        ) as median_lead_hours,
        percentile_cont(lead_hours, 0.9) over (
            partition by tenant_id, branch_id, modality, week
        ) as p90_lead_hours
    from appointments
),

final as (
    select
        tenant_id,
        branch_id,
        modality,
        week,
        count(*) as appointments,
        round(any_value(median_lead_hours), 2) as median_lead_hours,
        round(any_value(p90_lead_hours), 2) as p90_lead_hours,
        round(avg(lead_hours), 2) as mean_lead_hours,
        round(countif(lead_hours < 24) / count(*), 4) as same_day_share
    from percentiles
    group by tenant_id, branch_id, modality, week
)

select * from final
