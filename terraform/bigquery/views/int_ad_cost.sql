-- Google Ads cost of the active revision of each account's day (see
-- int_ad_active_revision), at one grain per row: a keyword; an ad group beyond its
-- keywords (keyword_id null); a campaign beyond its ad groups (ad_group_id null too).
-- Rows a restatement dropped are gone. cost_micros: millionths of currency.
with final as (
    select
        cost.tenant_id,
        cost.customer_id,
        cost.day,
        cost.revision,
        cost.campaign_id,
        cost.campaign_name,
        nullif(cost.ad_group_id, -1) as ad_group_id,
        cost.ad_group_name,
        nullif(cost.keyword_id, -1) as keyword_id,
        cost.keyword_text,
        cost.match_type,
        cost.cost_micros,
        cost.clicks,
        cost.impressions,
        cost.currency
    from `${project}.${dataset}.fct_ad_cost` as cost
    inner join `${project}.${dataset}.int_ad_active_revision` as active
        on
            cost.tenant_id = active.tenant_id
            and cost.customer_id = active.customer_id
            and cost.day = active.day
            and cost.revision = active.revision
    where active.kind = 'cost'
)

select * from final
