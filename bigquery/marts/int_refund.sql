-- fct_refund with refunded_date: the calendar date of refunded_at in the branch's time zone (UTC
-- for a branch the warehouse does not know), as the projection stored it with the row
-- (the UTC date for a row written without it). Every report dates money by it, never
-- by the UTC date.
create or replace view int_refund as
with final as (
    select * replace (coalesce(refunded_date, date(refunded_at)) as refunded_date)
    from fct_refund
)

select * from final
