-- Report 2: referrals and what they became, per tenant, referrer and clinic-local day.
--   referrer_type, referrer_id    who referred (null: a scan whose referral_id the
--                                 warehouse has no referral for);
--   currency                      of the scans (appointments); for referrals, that of
--                                 the branch that recorded them (null: no known branch);
--   day                           the clinic's calendar day: a referral's received_at
--                                 in its branch's time zone (UTC when unknown), a
--                                 scan's start_date;
--   referrals                     referrals received that day;
--   patients_referred             distinct patients of those referrals;
--   scans                         completed appointments that day carrying a referral
--                                 of this referrer (cancelled ones never count: a
--                                 cancelled-then-rebooked visit is one scan);
--   new_patients                  distinct patients among them whose first scan in the
--                                 tenant it is (int_patient_first_scan);
--   revenue_minor                 what those scans have paid to date, net of refunds
--                                 (paid_minor of int_appointment_revenue), in currency;
--   trailing_30d_scans, trailing_30d_new_patients, trailing_30d_revenue_minor
--                                 the same over the 30 days ending on day (day and the
--                                 29 before it; days without a row add nothing).
with referrals as (
    select
        referrals.tenant_id,
        referrals.referrer_type,
        referrals.referrer_id,
        branches.currency,
        date(referrals.received_at, coalesce(branches.timezone, 'UTC')) as day,
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
        day,
        count(*) as referrals,
        count(distinct patient_id) as patients_referred
    from referrals
    group by tenant_id, referrer_type, referrer_id, currency, day
),

referred_scans as (
    select
        appointments.tenant_id,
        referrals.referrer_type,
        referrals.referrer_id,
        appointments.currency,
        appointments.start_date as day,
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

scanned as (
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

daily as (
    select
        coalesce(received.tenant_id, scanned.tenant_id) as tenant_id,
        coalesce(received.referrer_type, scanned.referrer_type) as referrer_type,
        coalesce(received.referrer_id, scanned.referrer_id) as referrer_id,
        coalesce(received.currency, scanned.currency) as currency,
        coalesce(received.day, scanned.day) as day,
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
            and received.day = scanned.day
),

final as (
    select
        tenant_id,
        referrer_type,
        referrer_id,
        currency,
        day,
        referrals,
        patients_referred,
        scans,
        new_patients,
        revenue_minor,
        cast(sum(scans) over trailing_30d as int64) as trailing_30d_scans,
        cast(sum(new_patients) over trailing_30d as int64) as trailing_30d_new_patients,
        cast(sum(revenue_minor) over trailing_30d as int64) as trailing_30d_revenue_minor
    from daily
    window trailing_30d as (
        partition by tenant_id, referrer_type, referrer_id, currency
        order by unix_date(day)
        range between 29 preceding and current row
    )
)

select * from final
