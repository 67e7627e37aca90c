-- No-shows per branch and day (fct_appointment.start_date, the branch's calendar): the
-- appointments not cancelled that start that day and how many of them were marked
-- no-show. An appointment still booked after its day counts as attended. Over several
-- days, add the counts and divide again.
with final as (
    select
        tenant_id,
        branch_id,
        start_date as day,
        cast(count(*) as int64) as appointments,
        cast(countif(status = 'no_show') as int64) as no_shows,
        round(safe_divide(countif(status = 'no_show'), count(*)), 4) as no_show_rate
    from `${project}.${dataset}.fct_appointment`
    where status != 'cancelled'
    group by tenant_id, branch_id, start_date
)

select * from final
