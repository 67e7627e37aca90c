-- fct_payment with paid_date: the calendar date of paid_at in the branch's time zone (UTC
-- for a branch the warehouse does not know), as the projection stored it with the row
-- (the UTC date for a row written without it). Every report dates money by it, never
-- by the UTC date.
with final as (
    select * replace (coalesce(paid_date, date(paid_at)) as paid_date)
    from `${project}.${dataset}.fct_payment`
)

select * from final
