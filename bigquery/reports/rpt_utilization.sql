-- Utilization per clinician, room and equipment and day (the branch's calendar): booked
-- minutes (appointments not cancelled, on their start_date) over available minutes,
-- where available minutes are working minutes less blocked time and leave.
--   clinician  working_minutes: their working hours that weekday (int_clinician_day);
--              blocked_minutes: the part of their active blocks (leave, meetings;
--              fct_clinician_block, not the unblocked ones) inside those hours, on the
--              branch's wall clock, each minute once however many blocks cover it; a
--              block may span midnight and several days; a day of leave has 0 available.
--   room       rooms have no hours of their own: working_minutes is the branch's opening
--              span that day, from the earliest start to the latest end of the working
--              hours of the branch's clinicians; available_minutes is the same span of
--              their available time (working and not blocked), so blocks that take the
--              span's first or last hours shorten it, and a day on which every clinician
--              is on leave has 0; for every room registered at the branch by then.
--   equipment  per equipment code at the branch (a room's comma-separated equipment,
--              the version in force that day): the sums of the minutes of the rooms
--              holding it (two MRI-3T rooms give twice the minutes).
-- blocked_minutes = working_minutes - available_minutes. Over several days, add the
-- minutes and divide again. utilization is a share (0.25 = 25%), null when nothing is
-- available.
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
        clinician_day.working_minutes,
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
        max(last_minute) - min(first_minute) as working_minutes,
        coalesce(max(last_available_minute) - min(first_available_minute), 0)
            as available_minutes
    from int_clinician_day
    group by tenant_id, branch_id, day
),

room_versions as (
    select
        rooms.tenant_id,
        rooms.branch_id,
        rooms.room_id,
        rooms.equipment,
        date(rooms.valid_from, coalesce(branches.timezone, 'UTC')) as first_day,
        date(rooms.valid_to, coalesce(branches.timezone, 'UTC')) as next_version_day
    from dim_room as rooms
    left join dim_branch as branches
        on
            rooms.tenant_id = branches.tenant_id
            and rooms.branch_id = branches.branch_id
),

-- What a room version's minutes count for: the room itself, and each of its distinct
-- equipment codes.
room_subjects as (
    select
        tenant_id,
        branch_id,
        room_id,
        first_day,
        next_version_day,
        'room' as subject,
        room_id as subject_id
    from room_versions
    union all
    select distinct
        room_versions.tenant_id,
        room_versions.branch_id,
        room_versions.room_id,
        room_versions.first_day,
        room_versions.next_version_day,
        'equipment' as subject,
        code as subject_id
    from room_versions, unnest(split(room_versions.equipment, ',')) as code
    where room_versions.equipment is not null
),

room_days as (
    select
        rooms.tenant_id,
        rooms.branch_id,
        rooms.subject,
        rooms.subject_id,
        spans.day,
        cast(sum(spans.working_minutes) as int64) as working_minutes,
        cast(sum(spans.available_minutes) as int64) as available_minutes,
        cast(sum(coalesce(booked.booked_minutes, 0)) as int64) as booked_minutes
    from room_subjects as rooms
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
    group by rooms.tenant_id, rooms.branch_id, rooms.subject, rooms.subject_id, spans.day
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
        round(safe_divide(booked_minutes, available_minutes), 4) as utilization,
        working_minutes,
        working_minutes - available_minutes as blocked_minutes
    from unioned
)

select * from final
