-- Report 5: revenue breakdown per tenant, branch (location), month (first day of the
-- month of start_date, the branch's own calendar), modality, clinician, payer type and
-- currency. Money in integer minor units, as int_appointment_revenue defines it (never
-- redefined here, never summed across currencies); revenue sits on the month of the
-- service, so a refund or payment after month end restates that month.
--   clinician_name     the clinician's current display name (dim_clinician); the
--                      clinician is the appointment's latest (after any reschedule)
--   payer_type         the payer of the appointment's latest invoice; 'unbilled' when it
--                      has no invoice (whatever was paid on the appointment itself)
--   appointments       completed appointments
--   billed_minor       prepaid_minor + invoiced_minor
--   invoiced_minor     what the invoices bill
--   credited_minor     the credit notes against the invoices (billed, no longer owed)
--   prepaid_minor      deposits and payments on the appointment, net of their refunds
--   paid_minor         every payment net of every refund to date
--   outstanding_minor  invoiced - credited - paid against the invoices net of their
--                      refunds: a refund with no credit note is owed again
--   collection_rate    paid_minor / (billed_minor - credited_minor), float64 rounded to
--                      4 decimals; null when nothing is left billed
-- The appointments counted are the completed ones plus every other appointment that
-- has money (billed or paid): a no-show's or late cancellation's kept deposit, a deposit
-- on a booking still to come. Those add their money but not to appointments. A deposit
-- refunded in full leaves nothing, and the appointment no row.
with appointments as (
    select
        tenant_id,
        appointment_id,
        branch_id,
        modality,
        clinician_id,
        currency,
        status,
        cast(date_trunc(start_date, month) as date) as month
    from `${project}.${dataset}.fct_appointment`
),

-- An invoice could in principle be in another currency than its appointment: its money
-- then counts in its own currency, and the appointment in each currency it has money in.
lines as (
    select
        appointments.tenant_id,
        appointments.branch_id,
        appointments.month,
        appointments.modality,
        appointments.clinician_id,
        appointments.appointment_id,
        appointments.status,
        coalesce(revenue.payer_type, 'unbilled') as payer_type,
        coalesce(revenue.currency, appointments.currency) as currency,
        coalesce(revenue.billed_minor, 0) as billed_minor,
        coalesce(revenue.invoiced_minor, 0) as invoiced_minor,
        coalesce(revenue.credited_minor, 0) as credited_minor,
        coalesce(revenue.prepaid_minor, 0) as prepaid_minor,
        coalesce(revenue.paid_minor, 0) as paid_minor,
        coalesce(revenue.outstanding_minor, 0) as outstanding_minor
    from appointments
    left join `${project}.${dataset}.int_appointment_revenue` as revenue
        on
            appointments.tenant_id = revenue.tenant_id
            and appointments.appointment_id = revenue.appointment_id
    where
        appointments.status = 'completed'
        or revenue.billed_minor != 0
        or revenue.paid_minor != 0
),

summed as (
    select
        tenant_id,
        branch_id,
        month,
        modality,
        clinician_id,
        payer_type,
        currency,
        count(distinct if(status = 'completed', appointment_id, null)) as appointments,
        cast(sum(billed_minor) as int64) as billed_minor,
        cast(sum(invoiced_minor) as int64) as invoiced_minor,
        cast(sum(credited_minor) as int64) as credited_minor,
        cast(sum(prepaid_minor) as int64) as prepaid_minor,
        cast(sum(paid_minor) as int64) as paid_minor,
        cast(sum(outstanding_minor) as int64) as outstanding_minor
    from lines
    group by tenant_id, branch_id, month, modality, clinician_id, payer_type, currency
),

final as (
    select
        summed.tenant_id,
        summed.branch_id,
        summed.month,
        summed.modality,
        summed.clinician_id,
        clinicians.display_name as clinician_name,
        summed.payer_type,
        summed.currency,
        summed.appointments,
        summed.billed_minor,
        summed.invoiced_minor,
        summed.credited_minor,
        summed.prepaid_minor,
        summed.paid_minor,
        summed.outstanding_minor,
        round(
            safe_divide(summed.paid_minor, summed.billed_minor - summed.credited_minor), 4
        ) as collection_rate
    from summed
    left join `${project}.${dataset}.dim_clinician` as clinicians
        on
            summed.tenant_id = clinicians.tenant_id
            and summed.clinician_id = clinicians.clinician_id
            and clinicians.is_current
)

select * from final
