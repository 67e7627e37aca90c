-- Google Ads paid clicks of the active revision of each account's day (see
-- int_ad_active_revision): one row per GCLID, with the campaign, ad group and keyword
-- it came from (null ad group or keyword: the click had none).
with final as (
    select clicks.*
    from `${project}.${dataset}.fct_ad_click` as clicks
    inner join `${project}.${dataset}.int_ad_active_revision` as active
        on
            clicks.tenant_id = active.tenant_id
            and clicks.customer_id = active.customer_id
            and clicks.day = active.day
            and clicks.revision = active.revision
    where active.kind = 'clicks'
)

select * from final
