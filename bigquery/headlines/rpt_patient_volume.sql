-- Headline figures of report 1 (rpt_patient_volume): one tenant, the months whose first
-- day is from from_date to to_date (the report's month column), the branches asked for,
-- each figure counted once over the whole range from the facts, never added up from the
-- report's rows (a patient new in two modalities or branches is one new patient):
--   scans, cancelled, no_shows, still_booked
--                      appointments by status, as the report's rows (which add up to these)
--   patients           distinct patients with a scan (a completed appointment)
--   new_patients       distinct patients with a scan in the month of their first scan
--                      anywhere in the tenant (int_patient_first_scan)
--   returning_patients distinct patients with a scan in a month after that of their first
--                      scan (a patient new in the range and back later in it is in both)
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id, by_modality, by_month
-- (booleans: a row per branch, modality or month instead of one for the whole range).
-- by: branch_id, modality, month
with appointments as (
    select
        tenant_id,
        branch_id,
        modality,
        patient_id,
        status,
        cast(date_trunc(start_date, month) as date) as month
    from fct_appointment
    where
        tenant_id = @tenant_id
        -- Every appointment of the range's months, and a few more: the partitions to read.
        and start_date >= @from_date
        and start_date < date_add(@to_date, interval 1 month)
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

scoped as (
    select
        appointments.patient_id,
        appointments.status,
        if(@by_branch_id, appointments.branch_id, null) as group_branch_id,
        if(@by_modality, appointments.modality, null) as group_modality,
        if(@by_month, appointments.month, null) as group_month,
        coalesce(appointments.month = first_scan.first_scan_month, false) as is_first_month
    from appointments
    left join int_patient_first_scan as first_scan
        on
            appointments.tenant_id = first_scan.tenant_id
            and appointments.patient_id = first_scan.patient_id
    where appointments.month between @from_date and @to_date
),

final as (
    select
        group_branch_id as branch_id,
        group_modality as modality,
        group_month as month,
        countif(status = 'completed') as scans,
        count(distinct if(status = 'completed', patient_id, null)) as patients,
        count(distinct if(status = 'completed' and is_first_month, patient_id, null))
            as new_patients,
        count(distinct if(status = 'completed' and not is_first_month, patient_id, null))
            as returning_patients,
        countif(status = 'cancelled') as cancelled,
        countif(status = 'no_show') as no_shows,
        countif(status in ('booked', 'arrived')) as still_booked
    from scoped
    group by group_branch_id, group_modality, group_month
)

select * from final
