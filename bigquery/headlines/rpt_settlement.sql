-- Headline figures of the settlement report (rpt_settlement): one tenant, the days from
-- from_date to to_date (settled_date), per currency, read from the report's own rows (one
-- per settlement the tenant has a part of), whose counts and money add up:
--   settlements        the settlements
--   payments, payment_gross_minor, refunds, refund_deducted_minor, disputes,
--   dispute_deducted_minor, adjustments, adjustment_deducted_minor, fee_minor, tax_minor,
--   items, settled_minor, unmatched_items, unmatched_net_minor
--                      the sums of the tenant's parts
--   amount_minor, difference_minor
--                      what reached the bank, and what the lines leave unexplained: on
--                      the gateway account's own rows only (none for other tenants)
-- The report has no branch: every branch counts.
-- Parameters: tenant_id; from_date, to_date (dates, both included); by_provider,
-- by_status, by_settled_date (booleans: a row per provider, status or day, and currency,
-- instead of one per currency for the whole range).
-- by: provider, status, settled_date
with scoped as (
    select
        if(@by_provider, provider, null) as group_provider,
        if(@by_status, status, null) as group_status,
        if(@by_settled_date, settled_date, null) as group_settled_date,
        currency,
        payments,
        payment_gross_minor,
        refunds,
        refund_deducted_minor,
        disputes,
        dispute_deducted_minor,
        adjustments,
        adjustment_deducted_minor,
        fee_minor,
        tax_minor,
        items,
        settled_minor,
        unmatched_items,
        unmatched_net_minor,
        amount_minor,
        difference_minor
    from rpt_settlement
    where tenant_id = @tenant_id and settled_date between @from_date and @to_date
),

final as (
    select
        group_provider as provider,
        group_status as status,
        group_settled_date as settled_date,
        currency,
        count(*) as settlements,
        cast(sum(payments) as int64) as payments,
        cast(sum(payment_gross_minor) as int64) as payment_gross_minor,
        cast(sum(refunds) as int64) as refunds,
        cast(sum(refund_deducted_minor) as int64) as refund_deducted_minor,
        cast(sum(disputes) as int64) as disputes,
        cast(sum(dispute_deducted_minor) as int64) as dispute_deducted_minor,
        cast(sum(adjustments) as int64) as adjustments,
        cast(sum(adjustment_deducted_minor) as int64) as adjustment_deducted_minor,
        cast(sum(fee_minor) as int64) as fee_minor,
        cast(sum(tax_minor) as int64) as tax_minor,
        cast(sum(items) as int64) as items,
        cast(sum(settled_minor) as int64) as settled_minor,
        cast(sum(unmatched_items) as int64) as unmatched_items,
        cast(sum(unmatched_net_minor) as int64) as unmatched_net_minor,
        cast(sum(amount_minor) as int64) as amount_minor,
        cast(sum(difference_minor) as int64) as difference_minor
    from scoped
    group by group_provider, group_status, group_settled_date, currency
)

select * from final
