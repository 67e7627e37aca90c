-- Headline figures of report 9 (rpt_google_ads): one tenant, the days from from_date to
-- to_date (the report's day column), per currency, read from the report's own rows (its
-- cost, clicks, bookings and revenue add up), with the ratios computed again from those
-- sums, never averaged. A report row's cost side is in its ad account's currency
-- (ads_currency), its bookings side in the bookings' (revenue_currency), so each side
-- counts in the row of its own currency:
--   cost_micros, cost, clicks, impressions
--                      the ad accounts' spend in currency (cost in major units)
--   bookings, cancelled_bookings, paid_revenue_minor
--                      bookings with a GCLID whose money is in currency, attributed to a
--                      click or not ('unattributed'), and what they have paid to date
--   roas               what bookings attributed to the accounts of currency, in currency,
--                      have paid, over the cost (both in major units), rounded to 4
--                      decimals; null without cost
--   cost_per_booking   cost over the bookings attributed to those accounts; null without
-- The report has no branch: every branch counts.
-- Parameters: tenant_id; from_date, to_date (dates, both included); by_campaign_id,
-- by_day (booleans: a row per campaign or day, and currency, instead of one per currency
-- for the whole range).
-- by: campaign_id, day
with scoped as (
    select
        if(@by_campaign_id, campaign_id, null) as group_campaign_id,
        if(@by_campaign_id, campaign_name, null) as campaign_name,
        if(@by_day, day, null) as group_day,
        ads_currency,
        revenue_currency,
        cost_micros,
        clicks,
        impressions,
        bookings,
        cancelled_bookings,
        paid_revenue_minor
    from rpt_google_ads
    where tenant_id = @tenant_id and day between @from_date and @to_date
),

sides as (
    select
        group_campaign_id,
        campaign_name,
        group_day,
        ads_currency as currency,
        cost_micros,
        clicks,
        impressions,
        0 as bookings,
        0 as cancelled_bookings,
        0 as paid_revenue_minor,
        bookings as attributed_bookings,
        if(revenue_currency = ads_currency, paid_revenue_minor, 0)
            as attributed_revenue_minor
    from scoped
    where ads_currency is not null
    union all
    select
        group_campaign_id,
        campaign_name,
        group_day,
        revenue_currency as currency,
        0 as cost_micros,
        0 as clicks,
        0 as impressions,
        bookings,
        cancelled_bookings,
        paid_revenue_minor,
        0 as attributed_bookings,
        0 as attributed_revenue_minor
    from scoped
    where revenue_currency is not null
),

summed as (
    select
        group_campaign_id,
        group_day,
        currency,
        any_value(campaign_name) as campaign_name,
        cast(sum(cost_micros) as int64) as cost_micros,
        cast(sum(clicks) as int64) as clicks,
        cast(sum(impressions) as int64) as impressions,
        cast(sum(bookings) as int64) as bookings,
        cast(sum(cancelled_bookings) as int64) as cancelled_bookings,
        cast(sum(paid_revenue_minor) as int64) as paid_revenue_minor,
        cast(sum(attributed_bookings) as int64) as attributed_bookings,
        cast(sum(attributed_revenue_minor) as int64) as attributed_revenue_minor
    from sides
    group by group_campaign_id, group_day, currency
),

final as (
    select
        group_campaign_id as campaign_id,
        campaign_name,
        group_day as day,
        currency,
        cost_micros,
        cast(cost_micros as numeric) / 1000000 as cost,
        clicks,
        impressions,
        bookings,
        cancelled_bookings,
        paid_revenue_minor,
        -- Major units of revenue over major units of cost: minor units times
        -- 10^(6 - the currency's ISO 4217 exponent) over micros (mymedic.domain.money).
        if(
            cost_micros > 0,
            round(
                attributed_revenue_minor / cost_micros
                * case
                    when currency in (
                        'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW',
                        'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'
                    ) then 1000000
                    when currency in (
                        'BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'
                    ) then 1000
                    else 10000
                end,
                4
            ),
            null
        ) as roas,
        if(
            attributed_bookings > 0,
            round(cast(cost_micros as numeric) / 1000000 / attributed_bookings, 6),
            null
        ) as cost_per_booking
    from summed
)

select * from final
