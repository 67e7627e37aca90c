-- NPS per branch and day (the branch's calendar date of the response): responses,
-- promoters (scores 9-10), passives (7-8), detractors (0-6) and the day's NPS,
-- 100 * (promoters - detractors) / responses, from -100 to 100. Over several days, add
-- the counts and compute the NPS again: never average daily scores.
create or replace view rpt_nps as
with responses as (
    select
        nps.tenant_id,
        nps.branch_id,
        nps.score,
        date(nps.responded_at, coalesce(branches.timezone, 'UTC')) as day
    from fct_nps_response as nps
    left join dim_branch as branches
        on
            nps.tenant_id = branches.tenant_id
            and nps.branch_id = branches.branch_id
),

final as (
    select
        tenant_id,
        branch_id,
        day,
        cast(count(*) as int64) as responses,
        cast(countif(score >= 9) as int64) as promoters,
        cast(countif(score between 7 and 8) as int64) as passives,
        cast(countif(score <= 6) as int64) as detractors,
        round(100 * safe_divide(countif(score >= 9) - countif(score <= 6), count(*)), 1) as nps
    from responses
    group by tenant_id, branch_id, day
)

select * from final
