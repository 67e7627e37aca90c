-- The minutes each clinician is available on each day of the branch's calendar: the
-- working hours of that weekday (weekday 0 = Monday) of the registration in force that
-- day (a version takes effect on the branch's date of its registration; of two on one
-- day the later wins), and the day's span, from its first start to its last end (in
-- minutes from midnight). Blocked time is not taken off. Days run from the registration
-- to the later of today (UTC) and the tenant's latest appointment, so that a future
-- day with bookings has its capacity. Days without working hours have no row.
with horizon as (
    select greatest(current_date(), coalesce(max(start_date), current_date())) as last_day
    from `${project}.${dataset}.fct_appointment`
),

versions as (
    select
        clinicians.tenant_id,
        clinicians.branch_id,
        clinicians.clinician_id,
        clinicians.valid_from,
        date(clinicians.valid_from, coalesce(branches.timezone, 'UTC')) as first_day,
        date(clinicians.valid_to, coalesce(branches.timezone, 'UTC')) as next_version_day
    from `${project}.${dataset}.dim_clinician` as clinicians
    left join `${project}.${dataset}.dim_branch` as branches
        on
            clinicians.tenant_id = branches.tenant_id
            and clinicians.branch_id = branches.branch_id
),

days as (
    select
        versions.tenant_id,
        versions.branch_id,
        versions.clinician_id,
        versions.valid_from,
        day
    from
        versions,
        horizon,
        unnest(generate_date_array(versions.first_day, horizon.last_day)) as day
    where versions.next_version_day is null or day < versions.next_version_day
),

hours as (
    select
        tenant_id,
        clinician_id,
        valid_from,
        weekday,
        cast(sum(end_minute - start_minute) as int64) as available_minutes,
        min(start_minute) as first_minute,
        max(end_minute) as last_minute
    from `${project}.${dataset}.hist_working_hours`
    group by tenant_id, clinician_id, valid_from, weekday
),

final as (
    select
        days.tenant_id,
        days.branch_id,
        days.clinician_id,
        days.day,
        hours.available_minutes,
        hours.first_minute,
        hours.last_minute
    from days
    inner join hours
        on
            days.tenant_id = hours.tenant_id
            and days.clinician_id = hours.clinician_id
            and days.valid_from = hours.valid_from
            and mod(date_diff(days.day, date '1970-01-05', day), 7) = hours.weekday
)

select * from final
