-- THE definition of a new patient, used by every report: a patient is new in the month
-- of their first completed appointment (scan) anywhere in the tenant, and returning in
-- every later month. Cancelled, no-show and future bookings do not count.
with completed as (
    select
        tenant_id,
        patient_id,
        start_at,
        start_date
    from `${project}.${dataset}.fct_appointment`
    where status = 'completed'
),

final as (
    select
        tenant_id,
        patient_id,
        min(start_at) as first_scan_at,
        min(start_date) as first_scan_date,
        cast(date_trunc(min(start_date), month) as date) as first_scan_month
    from completed
    group by tenant_id, patient_id
)

select * from final
