-- Report 9: Google Ads spend against the bookings and revenue it brought, per tenant,
-- day, campaign, ad group and keyword (the grain of int_ad_cost: a null ad group or
-- keyword is spend, or a click, above that level).
--   day                  a cost row's day (the ad account's time zone); a booking's
--                        day is when it was booked (booked_at in its branch's time
--                        zone), not the day of the click, so that a day's row never
--                        changes once the day is over (but for restated cost).
--   campaign_id ... keyword_text
--                        of the cost row, or for bookings of the click whose GCLID
--                        the appointment carries (int_ad_click); a GCLID no click
--                        matches is counted in a row with null ids and campaign_name
--                        'unattributed'.
--   ads_currency         the ad account's currency; cost_micros in millionths of it,
--                        cost in major units (numeric), clicks and impressions.
--   bookings             appointments booked with a GCLID of this keyword that day and
--                        not cancelled (cancelled_bookings: those cancelled since); a
--                        GCLID booked twice counts twice.
--   paid_revenue_minor   what all of them (cancelled ones too: a kept deposit is
--                        revenue) have paid to date net of refunds (paid_minor of
--                        int_appointment_revenue), in revenue_currency (null: no
--                        bookings). Bookings in another currency than the account's
--                        get a row of their own, without cost.
--   roas                 paid revenue / cost, both in major units (float, 4 decimals);
--                        null when there is no cost or the currencies differ (a row
--                        with cost only ever has revenue in the account's currency).
--   cost_per_booking     cost / bookings in ads_currency; null without bookings or
--                        without an account (the unattributed row).
with spend as (
    select
        tenant_id,
        day,
        campaign_id,
        ad_group_id,
        keyword_id,
        currency as ads_currency,
        any_value(campaign_name) as campaign_name,
        any_value(ad_group_name) as ad_group_name,
        any_value(keyword_text) as keyword_text,
        cast(sum(cost_micros) as int64) as cost_micros,
        cast(sum(clicks) as int64) as clicks,
        cast(sum(impressions) as int64) as impressions
    from `${project}.${dataset}.int_ad_cost`
    group by tenant_id, day, campaign_id, ad_group_id, keyword_id, currency
),

accounts as (
    select
        tenant_id,
        customer_id,
        any_value(currency having max day) as currency
    from `${project}.${dataset}.int_ad_active_revision`
    where kind = 'cost'
    group by tenant_id, customer_id
),

clicks as (
    select *
    from `${project}.${dataset}.int_ad_click`
    qualify row_number() over (partition by tenant_id, gclid order by day, customer_id) = 1
),

booked as (
    select
        appointments.tenant_id,
        appointments.appointment_id,
        appointments.gclid,
        appointments.status,
        appointments.currency,
        date(appointments.booked_at, coalesce(branches.timezone, 'UTC')) as day
    from `${project}.${dataset}.fct_appointment` as appointments
    left join `${project}.${dataset}.dim_branch` as branches
        on
            appointments.tenant_id = branches.tenant_id
            and appointments.branch_id = branches.branch_id
    where appointments.gclid is not null
),

attributed as (
    select
        booked.*,
        clicks.campaign_id,
        clicks.campaign_name,
        clicks.ad_group_id,
        clicks.ad_group_name,
        clicks.keyword_id,
        clicks.keyword_text,
        accounts.currency as ads_currency,
        coalesce(revenue.paid_minor, 0) as paid_minor
    from booked
    left join clicks
        on
            booked.tenant_id = clicks.tenant_id
            and booked.gclid = clicks.gclid
    left join accounts
        on
            clicks.tenant_id = accounts.tenant_id
            and clicks.customer_id = accounts.customer_id
    left join `${project}.${dataset}.int_appointment_revenue` as revenue
        on
            booked.tenant_id = revenue.tenant_id
            and booked.appointment_id = revenue.appointment_id
            and booked.currency = revenue.currency
),

bookings as (
    select
        tenant_id,
        day,
        campaign_id,
        ad_group_id,
        keyword_id,
        ads_currency,
        currency as revenue_currency,
        any_value(campaign_name) as campaign_name,
        any_value(ad_group_name) as ad_group_name,
        any_value(keyword_text) as keyword_text,
        countif(status != 'cancelled') as bookings,
        countif(status = 'cancelled') as cancelled_bookings,
        cast(sum(paid_minor) as int64) as paid_revenue_minor
    from attributed
    group by tenant_id, day, campaign_id, ad_group_id, keyword_id, ads_currency, currency
),

joined as (
    select
        coalesce(spend.tenant_id, bookings.tenant_id) as tenant_id,
        coalesce(spend.day, bookings.day) as day,
        coalesce(spend.campaign_id, bookings.campaign_id) as campaign_id,
        coalesce(spend.campaign_name, bookings.campaign_name, 'unattributed') as campaign_name,
        coalesce(spend.ad_group_id, bookings.ad_group_id) as ad_group_id,
        coalesce(spend.ad_group_name, bookings.ad_group_name) as ad_group_name,
        coalesce(spend.keyword_id, bookings.keyword_id) as keyword_id,
        coalesce(spend.keyword_text, bookings.keyword_text) as keyword_text,
        coalesce(spend.ads_currency, bookings.ads_currency) as ads_currency,
        coalesce(spend.cost_micros, 0) as cost_micros,
        coalesce(spend.clicks, 0) as clicks,
        coalesce(spend.impressions, 0) as impressions,
        coalesce(bookings.bookings, 0) as bookings,
        coalesce(bookings.cancelled_bookings, 0) as cancelled_bookings,
        coalesce(bookings.paid_revenue_minor, 0) as paid_revenue_minor,
        bookings.revenue_currency
    from spend
    full outer join bookings
        on
            spend.tenant_id = bookings.tenant_id
            and spend.day = bookings.day
            and spend.campaign_id = bookings.campaign_id
            and coalesce(spend.ad_group_id, -1) = coalesce(bookings.ad_group_id, -1)
            and coalesce(spend.keyword_id, -1) = coalesce(bookings.keyword_id, -1)
            and spend.ads_currency = bookings.revenue_currency
),

final as (
    select
        tenant_id,
        day,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        keyword_id,
        keyword_text,
        ads_currency,
        cost_micros,
        cast(cost_micros as numeric) / 1000000 as cost,
        clicks,
        impressions,
        bookings,
        cancelled_bookings,
        paid_revenue_minor,
        revenue_currency,
        -- Major units of revenue over major units of cost: minor units times
        -- 10^(6 - the currency's ISO 4217 exponent) over micros (mymedic.domain.money).
        if(
            cost_micros > 0 and coalesce(revenue_currency, ads_currency) = ads_currency,
            round(
                paid_revenue_minor / cost_micros
                * case
                    when ads_currency in (
                        'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW',
                        'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'
                    ) then 1000000
                    when ads_currency in (
                        'BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'
                    ) then 1000
                    else 10000
                end,
                4
            ),
            null
        ) as roas,
        if(
            bookings > 0 and ads_currency is not null,
            round(cast(cost_micros as numeric) / 1000000 / bookings, 6),
            null
        ) as cost_per_booking
    from joined
)

select * from final
