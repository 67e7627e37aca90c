-- fct_payment with paid_date: the calendar date of paid_at in the branch's time zone
-- (dim_branch.timezone; UTC for a branch the warehouse does not know). Every report
-- dates money by this, never by the UTC date.
with final as (
    select
        facts.*,
        date(facts.paid_at, coalesce(branches.timezone, 'UTC')) as paid_date
    from `${project}.${dataset}.fct_payment` as facts
    left join `${project}.${dataset}.dim_branch` as branches
        on
            facts.tenant_id = branches.tenant_id
            and facts.branch_id = branches.branch_id
)

select * from final
