-- The minutes each clinician is available on each day of the branch's calendar.
--   working_minutes   the working hours of that weekday (weekday 0 = Monday) of the
--                     registration in force that day (a version takes effect on the
--                     branch's date of its registration; of two on one day the later wins)
--   blocked_minutes   the part of the clinician's active blocks (fct_clinician_block:
--                     leave, meetings; not those unblocked) that falls inside those
--                     working intervals, on the branch's wall clock, to the minute. A block
--                     may span midnight and several days: each day loses its own part.
--                     Minutes under two overlapping blocks are taken off once. A day of
--                     leave takes off the whole day; a 13:00-19:00 block on a day worked
--                     08:00-13:00 and 14:00-20:00 takes off 14:00-19:00, 300 minutes.
--   available_minutes working_minutes less blocked_minutes
--   first_minute,     the day's working span, from the start of its first working
--   last_minute       interval to the end of its last (minutes from midnight)
--   first_available_minute, last_available_minute: the same span of the available time
--                     (blocks at either end shorten it); null when blocks take the day
-- Days run from the registration to the later of today (UTC) and the tenant's latest
-- appointment, so that a future day with bookings has its capacity. Days without working
-- hours have no row; a day of leave has one, with 0 available minutes.
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

-- The working minutes of each version and weekday, and their span.
hours as (
    select
        tenant_id,
        clinician_id,
        valid_from,
        weekday,
        cast(sum(end_minute - start_minute) as int64) as working_minutes,
        min(start_minute) as first_minute,
        max(end_minute) as last_minute
    from `${project}.${dataset}.hist_working_hours`
    group by tenant_id, clinician_id, valid_from, weekday
),

-- The active blocks on the branch's wall clock: their first and last local day, and the
-- minute of the day they start and end at.
blocks as (
    select
        blocks.tenant_id,
        blocks.clinician_id,
        date(blocks.start_at, coalesce(branches.timezone, 'UTC')) as first_day,
        date(blocks.end_at, coalesce(branches.timezone, 'UTC')) as last_day,
        extract(hour from time(blocks.start_at, coalesce(branches.timezone, 'UTC'))) * 60
        + extract(minute from time(blocks.start_at, coalesce(branches.timezone, 'UTC')))
            as start_minute,
        extract(hour from time(blocks.end_at, coalesce(branches.timezone, 'UTC'))) * 60
        + extract(minute from time(blocks.end_at, coalesce(branches.timezone, 'UTC')))
            as end_minute
    from `${project}.${dataset}.fct_clinician_block` as blocks
    left join `${project}.${dataset}.dim_branch` as branches
        on
            blocks.tenant_id = branches.tenant_id
            and blocks.branch_id = branches.branch_id
    where blocks.is_active
),

-- A block's part of each day it touches: [from_minute, to_minute) of that day.
block_days as (
    select
        blocks.tenant_id,
        blocks.clinician_id,
        day,
        if(day > blocks.first_day, 0, blocks.start_minute) as from_minute,
        if(day < blocks.last_day, 1440, blocks.end_minute) as to_minute
    from
        blocks,
        unnest(generate_date_array(blocks.first_day, blocks.last_day)) as day
),

-- Overlapping or touching blocks of a day merged (gaps and islands): a block starts a
-- new island when it starts after every block before it has ended.
marked as (
    select
        *,
        coalesce(
            from_minute > max(to_minute) over (
                partition by tenant_id, clinician_id, day
                order by from_minute, to_minute
                rows between unbounded preceding and 1 preceding
            ),
            true
        ) as starts_island
    from block_days
),

numbered as (
    select
        *,
        sum(if(starts_island, 1, 0)) over (
            partition by tenant_id, clinician_id, day
            order by from_minute, to_minute
            rows between unbounded preceding and current row
        ) as island
    from marked
),

islands as (
    select
        tenant_id,
        clinician_id,
        day,
        min(from_minute) as from_minute,
        max(to_minute) as to_minute
    from numbered
    group by tenant_id, clinician_id, day, island
),

blocked_days as (
    select distinct
        tenant_id,
        clinician_id,
        day
    from islands
),

-- Every working interval of the days with blocks (the version in force that day).
blocked_day_intervals as (
    select
        blocked_days.tenant_id,
        blocked_days.clinician_id,
        blocked_days.day,
        hours.start_minute,
        hours.end_minute
    from blocked_days
    inner join versions
        on
            blocked_days.tenant_id = versions.tenant_id
            and blocked_days.clinician_id = versions.clinician_id
            and blocked_days.day >= versions.first_day
            and (versions.next_version_day is null or blocked_days.day < versions.next_version_day)
    inner join `${project}.${dataset}.hist_working_hours` as hours
        on
            versions.tenant_id = hours.tenant_id
            and versions.clinician_id = hours.clinician_id
            and versions.valid_from = hours.valid_from
            and mod(date_diff(blocked_days.day, date '1970-01-05', day), 7) = hours.weekday
),

-- Per working interval: the minutes its blocked pieces take (the islands are apart, so
-- they never overlap), and the piece (if any) that takes its first or its last minute.
interval_blocks as (
    select
        intervals.tenant_id,
        intervals.clinician_id,
        intervals.day,
        intervals.start_minute,
        intervals.end_minute,
        coalesce(
            sum(
                least(islands.to_minute, intervals.end_minute)
                - greatest(islands.from_minute, intervals.start_minute)
            ),
            0
        ) as blocked_minutes,
        max(if(islands.from_minute <= intervals.start_minute, islands.to_minute, null))
            as head_end,
        min(if(islands.to_minute >= intervals.end_minute, islands.from_minute, null))
            as tail_start
    from blocked_day_intervals as intervals
    left join islands
        on
            intervals.tenant_id = islands.tenant_id
            and intervals.clinician_id = islands.clinician_id
            and intervals.day = islands.day
            and intervals.end_minute > islands.from_minute
            and intervals.start_minute < islands.to_minute
    group by
        intervals.tenant_id,
        intervals.clinician_id,
        intervals.day,
        intervals.start_minute,
        intervals.end_minute
),

-- Per day with blocks: the minutes blocked, and the span of the free time (time is
-- free right after a piece that takes an interval's start: the islands are apart).
blocked as (
    select
        tenant_id,
        clinician_id,
        day,
        cast(sum(blocked_minutes) as int64) as blocked_minutes,
        min(
            if(
                end_minute - start_minute > blocked_minutes,
                greatest(coalesce(head_end, start_minute), start_minute),
                null
            )
        ) as first_available_minute,
        max(
            if(
                end_minute - start_minute > blocked_minutes,
                least(coalesce(tail_start, end_minute), end_minute),
                null
            )
        ) as last_available_minute
    from interval_blocks
    group by tenant_id, clinician_id, day
),

final as (
    select
        days.tenant_id,
        days.branch_id,
        days.clinician_id,
        days.day,
        hours.working_minutes,
        coalesce(blocked.blocked_minutes, 0) as blocked_minutes,
        hours.working_minutes - coalesce(blocked.blocked_minutes, 0) as available_minutes,
        hours.first_minute,
        hours.last_minute,
        if(blocked.day is null, hours.first_minute, blocked.first_available_minute)
            as first_available_minute,
        if(blocked.day is null, hours.last_minute, blocked.last_available_minute)
            as last_available_minute
    from days
    inner join hours
        on
            days.tenant_id = hours.tenant_id
            and days.clinician_id = hours.clinician_id
            and days.valid_from = hours.valid_from
            and mod(date_diff(days.day, date '1970-01-05', day), 7) = hours.weekday
    left join blocked
        on
            days.tenant_id = blocked.tenant_id
            and days.clinician_id = blocked.clinician_id
            and days.day = blocked.day
)

select * from final
