-- rpt_google_ads, materialized per tenant by the refresh-reports job (and by a read
-- that finds it stale: mymedic.reports.materialize). Same columns, same meaning (cost
-- and cost_per_booking, NUMERIC in the view, are stored as FLOAT64).
-- key: tenant_id, day, campaign_id, ad_group_id, keyword_id, ads_currency, revenue_currency
create table if not exists mat_rpt_google_ads (
    tenant_id string not null,
    day date,
    campaign_id int64,
    campaign_name string,
    ad_group_id int64,
    ad_group_name string,
    keyword_id int64,
    keyword_text string,
    ads_currency string,
    cost_micros int64,
    cost float64,
    clicks int64,
    impressions int64,
    bookings int64,
    cancelled_bookings int64,
    paid_revenue_minor int64,
    revenue_currency string,
    roas float64,
    cost_per_booking float64
)
partition by day
cluster by tenant_id, campaign_id
