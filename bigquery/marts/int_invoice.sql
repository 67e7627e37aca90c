-- fct_invoice with issued_date: the calendar date of issued_at in the branch's time zone (UTC
-- for a branch the warehouse does not know), as the projection stored it with the row
-- (the UTC date for a row written without it). Every report dates money by it, never
-- by the UTC date.
create or replace view int_invoice as
with final as (
    select * replace (coalesce(issued_date, date(issued_at)) as issued_date)
    from fct_invoice
)

select * from final
