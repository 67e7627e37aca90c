-- Headline figures of report 5 (rpt_revenue_breakdown): one tenant, the months whose
-- first day is from from_date to to_date (the report's month column), the branches asked
-- for, per currency, read from the report's own rows: its counts and money add up (a
-- completed appointment is one row's per currency), and the collection rate is computed
-- again from those sums, never averaged over rows:
--   appointments, billed_minor, invoiced_minor, credited_minor, prepaid_minor,
--   paid_minor, outstanding_minor
--                      the sums of the report's columns (int_appointment_revenue)
--   collection_rate    paid_minor / (billed_minor - credited_minor) of those sums, rounded
--                      to 4 decimals; null when nothing is left billed
--   clinician_name     the clinician's current name, when a row is a clinician's
-- Parameters: tenant_id; from_date, to_date (dates, both included); branches ('*': every
-- branch, else branch ids separated by commas); by_branch_id, by_month, by_modality,
-- by_clinician_id, by_payer_type (booleans: a row per branch, month, modality, clinician
-- or payer type, and currency, instead of one per currency for the whole range).
-- by: branch_id, month, modality, clinician_id, payer_type
with scoped as (
    select
        if(@by_branch_id, branch_id, null) as group_branch_id,
        if(@by_month, month, null) as group_month,
        if(@by_modality, modality, null) as group_modality,
        if(@by_clinician_id, clinician_id, null) as group_clinician_id,
        if(@by_clinician_id, clinician_name, null) as clinician_name,
        if(@by_payer_type, payer_type, null) as group_payer_type,
        currency,
        appointments,
        billed_minor,
        invoiced_minor,
        credited_minor,
        prepaid_minor,
        paid_minor,
        outstanding_minor
    from rpt_revenue_breakdown
    where
        tenant_id = @tenant_id
        and month between @from_date and @to_date
        and (@branches in ('', '*') or branch_id in unnest(split(@branches, ',')))
),

summed as (
    select
        group_branch_id,
        group_month,
        group_modality,
        group_clinician_id,
        group_payer_type,
        currency,
        any_value(clinician_name) as clinician_name,
        cast(sum(appointments) as int64) as appointments,
        cast(sum(billed_minor) as int64) as billed_minor,
        cast(sum(invoiced_minor) as int64) as invoiced_minor,
        cast(sum(credited_minor) as int64) as credited_minor,
        cast(sum(prepaid_minor) as int64) as prepaid_minor,
        cast(sum(paid_minor) as int64) as paid_minor,
        cast(sum(outstanding_minor) as int64) as outstanding_minor
    from scoped
    group by
        group_branch_id,
        group_month,
        group_modality,
        group_clinician_id,
        group_payer_type,
        currency
),

final as (
    select
        group_branch_id as branch_id,
        group_month as month,
        group_modality as modality,
        group_clinician_id as clinician_id,
        clinician_name,
        group_payer_type as payer_type,
        currency,
        appointments,
        billed_minor,
        invoiced_minor,
        credited_minor,
        prepaid_minor,
        paid_minor,
        outstanding_minor,
        round(safe_divide(paid_minor, billed_minor - credited_minor), 4) as collection_rate
    from summed
)

select * from final
