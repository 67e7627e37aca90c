-- Google Ads paid clicks (click_view) per ad account, day and revision: the campaign,
-- ad group and keyword behind each GCLID. As fct_ad_cost, every revision keeps its own
-- rows and int_ad_click keeps those of the day's active revision only.
-- key: tenant_id, customer_id, day, revision, gclid
create table if not exists fct_ad_click (
    tenant_id string not null,
    customer_id string not null,
    day date not null,
    revision int64 not null,
    gclid string not null,
    campaign_id int64 not null,
    campaign_name string not null,
    ad_group_id int64,
    ad_group_name string,
    keyword_id int64,
    keyword_text string,
    match_type string,
    recorded_at timestamp not null,
    last_event_id string not null
)
partition by day
cluster by tenant_id, customer_id
