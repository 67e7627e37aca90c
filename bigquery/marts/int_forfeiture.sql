-- fct_forfeiture with forfeited_date: the calendar date of forfeited_at in the branch's
-- time zone (UTC for a branch the warehouse does not know), as the projection stored it
-- with the row (the UTC date for a row written without it). Every report dates money by it, never
-- by the UTC date.
create or replace view int_forfeiture as
with final as (
    select * replace (coalesce(forfeited_date, date(forfeited_at)) as forfeited_date)
    from fct_forfeiture
)

select * from final
