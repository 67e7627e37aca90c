-- Headline figures of report 4 (rpt_procedure_trends): one tenant, the months whose
-- first day is from from_date to to_date (the report's month column), the branches asked
-- for, per currency, read from the report's own rows: its counts and money add up (each
-- completed appointment is one scan of one row per currency), and the year-on-year
-- changes are computed again from those sums, never averaged:
--   scans, revenue_minor, scans_last_year, revenue_last_year_minor
--                      the sums of the report's columns
--   scans_yoy_change   (scans - scans_last_year) / scans_last_year, rounded to 4 decimals;
--   revenue_yoy_change the same of revenue; null when last year is 0
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id, by_modality,
-- by_procedure_code, by_month (booleans: a row per branch, modality, procedure or month,
-- and currency, instead of one per currency for the whole range).
-- by: branch_id, modality, procedure_code, month
with scoped as (
    select
        if(@by_branch_id, branch_id, null) as group_branch_id,
        if(@by_modality, modality, null) as group_modality,
        if(@by_procedure_code, procedure_code, null) as group_procedure_code,
        if(@by_month, month, null) as group_month,
        currency,
        scans,
        revenue_minor,
        scans_last_year,
        revenue_last_year_minor
    from rpt_procedure_trends
    where
        tenant_id = @tenant_id
        and month between @from_date and @to_date
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

summed as (
    select
        group_branch_id,
        group_modality,
        group_procedure_code,
        group_month,
        currency,
        cast(sum(scans) as int64) as scans,
        cast(sum(revenue_minor) as int64) as revenue_minor,
        cast(sum(scans_last_year) as int64) as scans_last_year,
        cast(sum(revenue_last_year_minor) as int64) as revenue_last_year_minor
    from scoped
    group by group_branch_id, group_modality, group_procedure_code, group_month, currency
),

final as (
    select
        group_branch_id as branch_id,
        group_modality as modality,
        group_procedure_code as procedure_code,
        group_month as month,
        currency,
        scans,
        revenue_minor,
        scans_last_year,
        revenue_last_year_minor,
        round(safe_divide(scans - scans_last_year, scans_last_year), 4) as scans_yoy_change,
        round(
            safe_divide(revenue_minor - revenue_last_year_minor, revenue_last_year_minor), 4
        ) as revenue_yoy_change
    from summed
)

select * from final
