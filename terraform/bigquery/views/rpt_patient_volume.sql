-- Report 1: patient volume by branch, modality and month of the appointment's start,
-- with new vs returning patients (definition: int_patient_first_scan).
-- scans counts completed appointments only; cancellations and no-shows are their own
-- columns so that they never inflate volume.
-- A patient with a scan in the group is either new (the group's month is their first
-- scan's month) or returning, so both are counted from one row per patient and group.
with appointments as (
    select
        tenant_id,
        branch_id,
        modality,
        patient_id,
        status,
        cast(date_trunc(start_date, month) as date) as month
    from `${project}.${dataset}.fct_appointment`
),

-- One row per patient with a completed appointment (scan) in the branch, modality and
-- month; new in the month of their first scan anywhere in the tenant, returning after.
scanned as (
    select distinct
        tenant_id,
        branch_id,
        modality,
        month,
        patient_id
    from appointments
    where status = 'completed'
),

classified as (
    select
        scanned.tenant_id,
        scanned.branch_id,
        scanned.modality,
        scanned.month,
        count(*) as patients,
        countif(scanned.month = first_scan.first_scan_month) as new_patients,
        countif(scanned.month != first_scan.first_scan_month) as returning_patients
    from scanned
    left join `${project}.${dataset}.int_patient_first_scan` as first_scan
        on
            scanned.tenant_id = first_scan.tenant_id
            and scanned.patient_id = first_scan.patient_id
    group by scanned.tenant_id, scanned.branch_id, scanned.modality, scanned.month
),

counted as (
    select
        tenant_id,
        branch_id,
        modality,
        month,
        countif(status = 'completed') as scans,
        countif(status = 'cancelled') as cancelled,
        countif(status = 'no_show') as no_shows,
        countif(status in ('booked', 'arrived')) as still_booked
    from appointments
    group by tenant_id, branch_id, modality, month
),

final as (
    select
        counted.tenant_id,
        counted.branch_id,
        counted.modality,
        counted.month,
        counted.scans,
        coalesce(classified.patients, 0) as patients,
        coalesce(classified.new_patients, 0) as new_patients,
        coalesce(classified.returning_patients, 0) as returning_patients,
        counted.cancelled,
        counted.no_shows,
        counted.still_booked
    from counted
    left join classified
        on
            counted.tenant_id = classified.tenant_id
            and counted.branch_id = classified.branch_id
            and counted.modality = classified.modality
            and counted.month = classified.month
)

select * from final
