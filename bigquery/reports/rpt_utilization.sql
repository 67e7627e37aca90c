-- Utilization per clinician and per room and day (the branch's calendar): booked
-- minutes (appointments not cancelled, on their start_date) over available minutes.
-- A clinician's available minutes are their working hours that weekday
-- (int_clinician_day). Rooms have no hours of their own: a room's available minutes are
-- the branch's opening span that day, from the earliest start to the latest end of the
-- working hours of the branch's clinicians, for every room registered at the branch by
-- then. Over several days, add the minutes and divide again. utilization is a share
-- (0.25 = 25%).
create or replace view rpt_utilization as
with booked_clinician as (
    select
        tenant_id,
        clinician_id,
        start_date as day,
        cast(sum(duration_minutes) as int64) as booked_minutes
    from fct_appointment
    where status != 'cancelled'
    group by tenant_id, clinician_id, start_date
),

booked_room as (
    select
        tenant_id,
        room_id,
        start_date as day,
        cast(sum(duration_minutes) as int64) as booked_minutes
    from fct_appointment
    where status != 'cancelled'
    group by tenant_id, room_id, start_date
),

clinician_days as (
    select
        clinician_day.tenant_id,
        clinician_day.branch_id,
        'clinician' as subject,
        clinician_day.clinician_id as subject_id,
        clinician_day.day,
        clinician_day.available_minutes,
        coalesce(booked.booked_minutes, 0) as booked_minutes
    from int_clinician_day as clinician_day
    left join booked_clinician as booked
        on
            clinician_day.tenant_id = booked.tenant_id
            and clinician_day.clinician_id = booked.clinician_id
            and clinician_day.day = booked.day
),

branch_spans as (
    select
        tenant_id,
        branch_id,
        day,
        max(last_minute) - min(first_minute) as span_minutes
    from int_clinician_day
    group by tenant_id, branch_id, day
),

room_versions as (
    select
        rooms.tenant_id,
        rooms.branch_id,
        rooms.room_id,
        date(rooms.valid_from, coalesce(branches.timezone, 'UTC')) as first_day,
        date(rooms.valid_to, coalesce(branches.timezone, 'UTC')) as next_version_day
    from dim_room as rooms
    left join dim_branch as branches
        on
            rooms.tenant_id = branches.tenant_id
            and rooms.branch_id = branches.branch_id
),

room_days as (
    select
        rooms.tenant_id,
        rooms.branch_id,
        'room' as subject,
        rooms.room_id as subject_id,
        spans.day,
        spans.span_minutes as available_minutes,
        coalesce(booked.booked_minutes, 0) as booked_minutes
    from room_versions as rooms
    inner join branch_spans as spans
        on
            rooms.tenant_id = spans.tenant_id
            and rooms.branch_id = spans.branch_id
            and rooms.first_day <= spans.day
            and (rooms.next_version_day is null or rooms.next_version_day > spans.day)
    left join booked_room as booked
        on
            rooms.tenant_id = booked.tenant_id
            and rooms.room_id = booked.room_id
            and spans.day = booked.day
),

unioned as (
    select * from clinician_days
    union all
    select * from room_days
),

final as (
    select
        tenant_id,
        branch_id,
        subject,
        subject_id,
        day,
        available_minutes,
        booked_minutes,
        round(safe_divide(booked_minutes, available_minutes), 4) as utilization
    from unioned
)

select * from final
