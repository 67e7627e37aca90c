-- Report 1: patient volume by branch, modality and month of the appointment's start,
-- with new vs returning patients (definition: int_patient_first_scan).
-- scans counts completed appointments only; cancellations and no-shows are their own
-- columns so that they never inflate volume.
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

classified as (
    select
        appointments.*,
        appointments.month = first_scan.first_scan_month as is_new_patient
    from appointments
    left join `${project}.${dataset}.int_patient_first_scan` as first_scan
        on
            appointments.tenant_id = first_scan.tenant_id
            and appointments.patient_id = first_scan.patient_id
),

final as (
    select
        tenant_id,
        branch_id,
        modality,
        month,
        countif(status = 'completed') as scans,
        count(distinct if(status = 'completed', patient_id, null)) as patients,
        count(distinct if(status = 'completed' and is_new_patient, patient_id, null))
            as new_patients,
        count(distinct if(status = 'completed' and not is_new_patient, patient_id, null))
            as returning_patients,
        countif(status = 'cancelled') as cancelled,
        countif(status = 'no_show') as no_shows,
        countif(status in ('booked', 'arrived')) as still_booked
    from classified
    group by tenant_id, branch_id, modality, month
)

select * from final
