-- Headline figures of report 2 (rpt_referral_source): one tenant, the weeks whose Monday
-- is from from_date to to_date (the report's week column), per currency (as the report:
-- a referral's is that of the branch that recorded it, a scan's its appointment's), each
-- figure counted once over the whole range from the facts, never added up from the
-- report's weekly rows (a patient referred in two weeks is one patient referred):
--   referrals          referrals received
--   patients_referred  distinct patients of those referrals
--   scans              completed appointments carrying a referral
--   new_patients       distinct patients among them whose first scan in the tenant it is
--                      (int_patient_first_scan)
--   revenue_minor      what those scans have paid to date, net of refunds
--                      (int_appointment_revenue), in currency
-- The report has no branch: every branch counts. The trailing 30-day sums of the report
-- are its own (a window per week), not headline figures.
-- Parameters: tenant_id; from_date, to_date (dates, both included); by_referrer_type,
-- by_referrer_id, by_week (booleans: a row per referrer type, referrer id or week, and
-- currency, instead of one per currency for the whole range).
-- by: referrer_type, referrer_id, week
with referrals as (
    select
        referrals.referrer_type,
        referrals.referrer_id,
        branches.currency,
        cast(
            date_trunc(
                date(referrals.received_at, coalesce(branches.timezone, 'UTC')), week (monday)
            ) as date
        ) as week,
        referrals.patient_id,
        'referral' as kind,
        false as is_first_scan,
        0 as paid_minor
    from fct_referral as referrals
    left join dim_branch as branches
        on
            referrals.tenant_id = branches.tenant_id
            and referrals.branch_id = branches.branch_id
    where
        referrals.tenant_id = @tenant_id
        -- The range's weeks in any time zone, and a few more: the partitions to read.
        and date(referrals.received_at)
        between date_sub(@from_date, interval 1 day) and date_add(@to_date, interval 7 day)
),

scans as (
    select
        referrals.referrer_type,
        referrals.referrer_id,
        appointments.currency,
        cast(date_trunc(appointments.start_date, week (monday)) as date) as week,
        appointments.patient_id,
        'scan' as kind,
        coalesce(first_scan.first_scan_at = appointments.start_at, false) as is_first_scan,
        coalesce(revenue.paid_minor, 0) as paid_minor
    from fct_appointment as appointments
    left join fct_referral as referrals
        on
            appointments.tenant_id = referrals.tenant_id
            and appointments.referral_id = referrals.referral_id
    left join int_patient_first_scan as first_scan
        on
            appointments.tenant_id = first_scan.tenant_id
            and appointments.patient_id = first_scan.patient_id
    left join int_appointment_revenue as revenue
        on
            appointments.tenant_id = revenue.tenant_id
            and appointments.appointment_id = revenue.appointment_id
            and appointments.currency = revenue.currency
    where
        appointments.tenant_id = @tenant_id
        and appointments.status = 'completed'
        and appointments.referral_id is not null
        and appointments.start_date between @from_date and date_add(@to_date, interval 6 day)
),

-- Referrals and scans side by side, one row each: a single aggregation counts both.
measures as (
    select
        if(@by_referrer_type, referrer_type, null) as group_referrer_type,
        if(@by_referrer_id, referrer_id, null) as group_referrer_id,
        if(@by_week, week, null) as group_week,
        currency,
        kind,
        patient_id,
        is_first_scan,
        paid_minor
    from (
        select * from referrals
        union all
        select * from scans
    ) as unioned
    where week between @from_date and @to_date
),

final as (
    select
        group_referrer_type as referrer_type,
        group_referrer_id as referrer_id,
        group_week as week,
        currency,
        countif(kind = 'referral') as referrals,
        count(distinct if(kind = 'referral', patient_id, null)) as patients_referred,
        countif(kind = 'scan') as scans,
        count(distinct if(kind = 'scan' and is_first_scan, patient_id, null)) as new_patients,
        cast(sum(paid_minor) as int64) as revenue_minor
    from measures
    group by group_referrer_type, group_referrer_id, group_week, currency
)

select * from final
