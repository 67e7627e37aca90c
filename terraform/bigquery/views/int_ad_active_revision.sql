-- The revision of each ad account's day that is in force, per kind ('cost', 'clicks'):
-- the latest one whose parts have all arrived (a revision's parts are appended
-- together, but may reach the warehouse in two batches). It replaces every earlier
-- revision of the day, even when it has no rows. currency: the account's (cost only).
with revisions as (
    select
        tenant_id,
        kind,
        customer_id,
        day,
        revision,
        any_value(currency) as currency,
        count(distinct part) as parts_seen,
        max(parts) as parts
    from `${project}.${dataset}.fct_ad_revision_part`
    group by tenant_id, kind, customer_id, day, revision
),

final as (
    select
        tenant_id,
        kind,
        customer_id,
        day,
        max(revision) as revision,
        any_value(currency having max revision) as currency
    from revisions
    where parts_seen = parts
    group by tenant_id, kind, customer_id, day
)

select * from final
