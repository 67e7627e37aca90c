-- fct_forfeiture with forfeited_date: the calendar date of forfeited_at in the branch's time zone
-- (dim_branch.timezone; UTC for a branch the warehouse does not know). Every report
-- dates money by this, never by the UTC date.
with final as (
    select
        facts.*,
        date(facts.forfeited_at, coalesce(branches.timezone, 'UTC')) as forfeited_date
    from `${project}.${dataset}.fct_forfeiture` as facts
    left join `${project}.${dataset}.dim_branch` as branches
        on
            facts.tenant_id = branches.tenant_id
            and facts.branch_id = branches.branch_id
)

select * from final
