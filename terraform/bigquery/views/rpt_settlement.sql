-- Gateway settlements (Razorpay settlements, Stripe payouts), one row per settlement,
-- under the tenant of the gateway account, in integer minor units of its currency:
--   settled_date: the UTC date of settled_at (the gateway's arrival date, or else when it
--     reported the settlement); status, bank_reference (the UTR at Razorpay) as reported.
--   amount_minor: what reached the bank; fee_minor, tax_minor (included in the fee): what
--     the gateway says it kept on the whole settlement, null when it did not say.
--   payments, payment_gross_minor: the payments it pays out and their amounts, from its
--     payment lines once itemized; before that, the payments it listed when recorded with
--     the amounts of those captures the warehouse has; null when nothing is known.
--   refunds / disputes / adjustments (adjustment and other lines) and their
--     *_deducted_minor: how many lines of each and what they took off the settlement
--     (minus their signed net: positive for a deduction, negative for a credit); null
--     until itemized.
--   items, items_net_minor: how many lines and the sum of their signed net; null until
--     itemized. difference_minor = amount_minor - items_net_minor: what the lines do not
--     explain (0 when they do); null until itemized.
with lines as (
    select
        tenant_id,
        provider,
        settlement_ref,
        countif(kind = 'payment') as payments,
        cast(sum(if(kind = 'payment', amount_minor, 0)) as int64) as payment_gross_minor,
        countif(kind = 'refund') as refunds,
        cast(sum(if(kind = 'refund', -net_minor, 0)) as int64) as refund_deducted_minor,
        countif(kind = 'dispute') as disputes,
        cast(sum(if(kind = 'dispute', -net_minor, 0)) as int64) as dispute_deducted_minor,
        countif(kind in ('adjustment', 'other')) as adjustments,
        cast(sum(if(kind in ('adjustment', 'other'), -net_minor, 0)) as int64)
            as adjustment_deducted_minor
    from `${project}.${dataset}.fct_settlement_item`
    group by tenant_id, provider, settlement_ref
),

listed as (
    select
        refs.tenant_id,
        refs.provider,
        refs.settlement_ref,
        count(*) as payments,
        cast(sum(captures.amount_minor) as int64) as payment_gross_minor
    from `${project}.${dataset}.fct_settlement_payment` as refs
    left join `${project}.${dataset}.fct_gateway_payment` as captures
        on
            refs.provider = captures.provider
            and refs.payment_ref = captures.payment_ref
    group by refs.tenant_id, refs.provider, refs.settlement_ref
),

final as (
    select
        settlements.tenant_id,
        settlements.provider,
        settlements.settlement_ref,
        date(settlements.settled_at) as settled_date,
        settlements.status,
        settlements.currency,
        settlements.bank_reference,
        settlements.amount_minor,
        settlements.fee_minor,
        settlements.tax_minor,
        if(
            settlements.items_count is null, listed.payments, coalesce(lines.payments, 0)
        ) as payments,
        if(
            settlements.items_count is null,
            listed.payment_gross_minor,
            coalesce(lines.payment_gross_minor, 0)
        ) as payment_gross_minor,
        if(settlements.items_count is null, null, coalesce(lines.refunds, 0)) as refunds,
        if(
            settlements.items_count is null, null, coalesce(lines.refund_deducted_minor, 0)
        ) as refund_deducted_minor,
        if(settlements.items_count is null, null, coalesce(lines.disputes, 0)) as disputes,
        if(
            settlements.items_count is null, null, coalesce(lines.dispute_deducted_minor, 0)
        ) as dispute_deducted_minor,
        if(settlements.items_count is null, null, coalesce(lines.adjustments, 0)) as adjustments,
        if(
            settlements.items_count is null, null, coalesce(lines.adjustment_deducted_minor, 0)
        ) as adjustment_deducted_minor,
        settlements.items_count as items,
        settlements.items_net_minor,
        settlements.amount_minor - settlements.items_net_minor as difference_minor
    from `${project}.${dataset}.fct_settlement` as settlements
    left join lines
        on
            settlements.tenant_id = lines.tenant_id
            and settlements.provider = lines.provider
            and settlements.settlement_ref = lines.settlement_ref
    left join listed
        on
            settlements.tenant_id = listed.tenant_id
            and settlements.provider = listed.provider
            and settlements.settlement_ref = listed.settlement_ref
)

select * from final
