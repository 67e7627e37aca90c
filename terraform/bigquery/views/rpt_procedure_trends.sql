-- Report 4: procedure trends per tenant, branch, modality, procedure, currency and month
-- (first day of the month of start_date, the branch's own calendar), against the same
-- month one year earlier. Money in integer minor units, never summed across currencies.
--   scans                    completed appointments
--   revenue_minor            paid_minor of int_appointment_revenue (net of every refund
--                            to date, so a later refund restates the service month) of
--                            the completed appointments and of every other appointment
--                            with money (a no-show's or late cancellation's kept
--                            deposit, a deposit on a booking still to come): the same
--                            appointments as rpt_revenue_breakdown, so the two agree
--   scans_last_year          scans of the same branch, procedure and currency in the
--   revenue_last_year_minor  same month one year earlier (and its revenue); 0 when none
--   scans_yoy_change         (scans - scans_last_year) / scans_last_year, float64
--   revenue_yoy_change       rounded to 4 decimals; null when last year is 0
-- A month with scans or revenue last year but none this year still has a row (scans 0,
-- revenue 0, scans_yoy_change -1), so that a drop shows in the report, for every month
-- up to the tenant's latest month with a scan: months still to come are not drops.
with appointments as (
    select
        tenant_id,
        appointment_id,
        branch_id,
        modality,
        procedure_code,
        currency,
        status,
        cast(date_trunc(start_date, month) as date) as month
    from `${project}.${dataset}.fct_appointment`
),

-- An invoice could in principle be in another currency than its appointment: its money
-- then counts in its own currency, and the scan in each currency it has money in.
lines as (
    select
        appointments.tenant_id,
        appointments.branch_id,
        appointments.modality,
        appointments.procedure_code,
        appointments.month,
        appointments.appointment_id,
        appointments.status,
        coalesce(revenue.currency, appointments.currency) as currency,
        coalesce(revenue.paid_minor, 0) as paid_minor
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

monthly as (
    select
        tenant_id,
        branch_id,
        modality,
        procedure_code,
        currency,
        month,
        count(distinct if(status = 'completed', appointment_id, null)) as scans,
        cast(sum(paid_minor) as int64) as revenue_minor
    from lines
    group by tenant_id, branch_id, modality, procedure_code, currency, month
),

latest_scan as (
    select
        tenant_id,
        max(month) as month
    from lines
    where status = 'completed'
    group by tenant_id
),

keys as (
    select
        tenant_id,
        branch_id,
        modality,
        procedure_code,
        currency,
        month
    from monthly
    union distinct
    select
        monthly.tenant_id,
        monthly.branch_id,
        monthly.modality,
        monthly.procedure_code,
        monthly.currency,
        cast(date_add(monthly.month, interval 1 year) as date) as month
    from monthly
    inner join latest_scan
        on monthly.tenant_id = latest_scan.tenant_id
    where date_add(monthly.month, interval 1 year) <= latest_scan.month
),

compared as (
    select
        keys.tenant_id,
        keys.branch_id,
        keys.modality,
        keys.procedure_code,
        keys.currency,
        keys.month,
        coalesce(this_year.scans, 0) as scans,
        coalesce(this_year.revenue_minor, 0) as revenue_minor,
        coalesce(last_year.scans, 0) as scans_last_year,
        coalesce(last_year.revenue_minor, 0) as revenue_last_year_minor
    from keys
    left join monthly as this_year
        on
            keys.tenant_id = this_year.tenant_id
            and keys.branch_id = this_year.branch_id
            and keys.modality = this_year.modality
            and keys.procedure_code = this_year.procedure_code
            and keys.currency = this_year.currency
            and keys.month = this_year.month
    left join monthly as last_year
        on
            keys.tenant_id = last_year.tenant_id
            and keys.branch_id = last_year.branch_id
            and keys.modality = last_year.modality
            and keys.procedure_code = last_year.procedure_code
            and keys.currency = last_year.currency
            and keys.month = cast(date_add(last_year.month, interval 1 year) as date)
),

final as (
    select
        *,
        round(safe_divide(scans - scans_last_year, scans_last_year), 4) as scans_yoy_change,
        round(
            safe_divide(revenue_minor - revenue_last_year_minor, revenue_last_year_minor), 4
        ) as revenue_yoy_change
    from compared
)

select * from final
