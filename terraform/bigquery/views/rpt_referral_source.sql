-- Report 2: referrals and what they became, per tenant, referrer and ISO week.
--   referrer_type, referrer_id    who referred (null: a scan whose referral_id the
--                                 warehouse has no referral for);
--   currency                      of the scans (appointments); for referrals, that of
--                                 the branch that recorded them (null: no known branch);
--   week                          the Monday of the ISO week of the clinic's calendar
--                                 day: a referral's received_at in its branch's time
--                                 zone (UTC when unknown), a scan's start_date (so a
--                                 referral at 00:15 local on a Monday is that week's);
--   referrals                     referrals received that week;
--   patients_referred             distinct patients of those referrals in the week (a
--                                 patient referred on two days of it counts once);
--   scans                         completed appointments that week carrying a referral
--                                 of this referrer (cancelled ones never count: a
--                                 cancelled-then-rebooked visit is one scan);
--   new_patients                  distinct patients among them whose first scan in the
--                                 tenant it is (int_patient_first_scan);
--   revenue_minor                 what those scans have paid to date, net of refunds
--                                 (paid_minor of int_appointment_revenue), in currency;
--   trailing_30d_scans, trailing_30d_new_patients, trailing_30d_revenue_minor
--                                 the same over the 30 days ending on the week's Sunday
--                                 (that Sunday and the 29 days before it), summed from
--                                 the days: new_patients per day, as the daily report
--                                 counted them; days without a scan add nothing.
-- A week has a row when it has referrals or scans of the referrer.
with referrals as (
    select
        referrals.tenant_id,
        referrals.referrer_type,
        referrals.referrer_id,
        branches.currency,
        cast(
            date_trunc(
                date(referrals.received_at, coalesce(branches.timezone, 'UTC')), week (monday)
            ) as date
        ) as week,
        referrals.patient_id
    from `${project}.${dataset}.fct_referral` as referrals
    left join `${project}.${dataset}.dim_branch` as branches
        on
            referrals.tenant_id = branches.tenant_id
            and referrals.branch_id = branches.branch_id
),

received as (
    select
        tenant_id,
        referrer_type,
        referrer_id,
        currency,
        week,
        count(*) as referrals,
        count(distinct patient_id) as patients_referred
    from referrals
    group by tenant_id, referrer_type, referrer_id, currency, week
),

referred_scans as (
    select
        appointments.tenant_id,
        referrals.referrer_type,
        referrals.referrer_id,
        appointments.currency,
        appointments.start_date as day,
        cast(date_trunc(appointments.start_date, week (monday)) as date) as week,
        appointments.patient_id,
        coalesce(first_scan.first_scan_at = appointments.start_at, false) as is_first_scan,
        coalesce(revenue.paid_minor, 0) as paid_minor
    from `${project}.${dataset}.fct_appointment` as appointments
    left join `${project}.${dataset}.fct_referral` as referrals
        on
            appointments.tenant_id = referrals.tenant_id
            and appointments.referral_id = referrals.referral_id
    left join `${project}.${dataset}.int_patient_first_scan` as first_scan
        on
            appointments.tenant_id = first_scan.tenant_id
            and appointments.patient_id = first_scan.patient_id
    left join `${project}.${dataset}.int_appointment_revenue` as revenue
        on
            appointments.tenant_id = revenue.tenant_id
            and appointments.appointment_id = revenue.appointment_id
            and appointments.currency = revenue.currency
    where appointments.status = 'completed' and appointments.referral_id is not null
),

-- The day-level scans the trailing sums are made of.
scanned_daily as (
    select
        tenant_id,
        referrer_type,
        referrer_id,
        currency,
        day,
        count(*) as scans,
        count(distinct if(is_first_scan, patient_id, null)) as new_patients,
        cast(sum(paid_minor) as int64) as revenue_minor
    from referred_scans
    group by tenant_id, referrer_type, referrer_id, currency, day
),

scanned as (
    select
        tenant_id,
        referrer_type,
        referrer_id,
        currency,
        week,
        count(*) as scans,
        count(distinct if(is_first_scan, patient_id, null)) as new_patients,
        cast(sum(paid_minor) as int64) as revenue_minor
    from referred_scans
    group by tenant_id, referrer_type, referrer_id, currency, week
),

weekly as (
    select
        coalesce(received.tenant_id, scanned.tenant_id) as tenant_id,
        coalesce(received.referrer_type, scanned.referrer_type) as referrer_type,
        coalesce(received.referrer_id, scanned.referrer_id) as referrer_id,
        coalesce(received.currency, scanned.currency) as currency,
        coalesce(received.week, scanned.week) as week,
        coalesce(received.referrals, 0) as referrals,
        coalesce(received.patients_referred, 0) as patients_referred,
        coalesce(scanned.scans, 0) as scans,
        coalesce(scanned.new_patients, 0) as new_patients,
        coalesce(scanned.revenue_minor, 0) as revenue_minor
    from received
    full outer join scanned
        on
            received.tenant_id = scanned.tenant_id
            and received.referrer_type = scanned.referrer_type
            and received.referrer_id = scanned.referrer_id
            and received.currency = scanned.currency
            and received.week = scanned.week
),

-- Each week's row is a "probe" on its Sunday (unix_day: days since 1970-01-01, the
-- Monday's plus 6), with zero day-level measures; the days come with their measures
-- and no week. A range window over unix_day then sums exactly the days from the Sunday
-- back 29 days into each probe (a Sunday's own scans too: rows on the same day are
-- peers, inside the frame).
probed as (
    select
        tenant_id,
        referrer_type,
        referrer_id,
        currency,
        unix_date(week) + 6 as unix_day,
        true as is_probe,
        week,
        referrals,
        patients_referred,
        scans,
        new_patients,
        revenue_minor,
        0 as day_scans,
        0 as day_new_patients,
        0 as day_revenue_minor
    from weekly
    union all
    select
        tenant_id,
        referrer_type,
        referrer_id,
        currency,
        unix_date(day) as unix_day,
        false as is_probe,
        null as week,
        null as referrals,
        null as patients_referred,
        null as scans,
        null as new_patients,
        null as revenue_minor,
        scans as day_scans,
        new_patients as day_new_patients,
        revenue_minor as day_revenue_minor
    from scanned_daily
),

trailing_sums as (
    select
        *,
        cast(sum(day_scans) over trailing_30d as int64) as trailing_30d_scans,
        cast(sum(day_new_patients) over trailing_30d as int64) as trailing_30d_new_patients,
        cast(sum(day_revenue_minor) over trailing_30d as int64) as trailing_30d_revenue_minor
    from probed
    window trailing_30d as (
        partition by tenant_id, referrer_type, referrer_id, currency
        order by unix_day
        range between 29 preceding and current row
    )
),

final as (
    select
        tenant_id,
        referrer_type,
        referrer_id,
        currency,
        week,
        referrals,
        patients_referred,
        scans,
        new_patients,
        revenue_minor,
        trailing_30d_scans,
        trailing_30d_new_patients,
        trailing_30d_revenue_minor
    from trailing_sums
    where is_probe
)

select * from final
