-- Google Ads cost per ad account, day (the account's time zone) and revision, at
-- exactly one grain per row: a keyword; what an ad group spent beyond its keywords
-- (keyword_id -1); what a campaign spent beyond its ad groups (ad_group_id -1 too).
-- -1 stands for "none" because the columns are part of the key (Google's ids are never
-- negative); int_ad_cost turns it back into null. Every revision keeps its own rows:
-- int_ad_cost keeps those of the day's active revision only, so rows a restatement
-- dropped disappear. cost_micros is in millionths of the account's currency.
-- key: tenant_id, customer_id, day, revision, campaign_id, ad_group_id, keyword_id
create table if not exists fct_ad_cost (
    tenant_id string not null,
    customer_id string not null,
    day date not null,
    revision int64 not null,
    campaign_id int64 not null,
    campaign_name string not null,
    ad_group_id int64 not null,
    ad_group_name string,
    keyword_id int64 not null,
    keyword_text string,
    match_type string,
    cost_micros int64 not null,
    clicks int64 not null,
    impressions int64 not null,
    currency string not null,
    recorded_at timestamp not null,
    last_event_id string not null
)
partition by day
cluster by tenant_id, customer_id
