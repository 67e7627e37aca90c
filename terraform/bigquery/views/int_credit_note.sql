-- fct_credit_note with credited_date: the calendar date of credited_at in the branch's
-- time zone (UTC for a branch the warehouse does not know), as the projection stored it
-- with the row (the UTC date for a row written without it). Every report dates credit
-- notes by it, never by the UTC date.
with final as (
    select * replace (coalesce(credited_date, date(credited_at)) as credited_date)
    from `${project}.${dataset}.fct_credit_note`
)

select * from final
