-- Gateway settlements (Razorpay settlements, Stripe payouts) per tenant: one row per
-- settlement the tenant has a part in, in integer minor units of its currency. A
-- gateway account may serve several clinics: its settlements are split per tenant by
-- the payments they pay out (fct_settlement_share), so each clinic sees its own part;
-- the account's tenant (account_tenant_id) also sees the whole payout.
--   settled_date: the UTC date of settled_at (the gateway's arrival date, or else when
--     it reported the settlement); status, bank_reference (the UTR at Razorpay).
--   payments, payment_gross_minor: this tenant's payments it pays out and their
--     amounts, from its payment lines once itemized; before that, the payments it
--     listed when recorded with the amounts of those captures the warehouse has; null
--     when nothing is known.
--   refunds / disputes / adjustments (adjustment and other lines) and their
--     *_deducted_minor: this tenant's lines of each and what they took off (minus their
--     signed net: positive for a deduction, negative for a credit); null until itemized.
--   fee_minor, tax_minor (included in the fee): the gateway's fees on this tenant's
--     lines; null until itemized.
--   items, settled_minor: this tenant's lines and the sum of their signed net: its part
--     of what was paid out; null until itemized.
--   unmatched_items, unmatched_net_minor: on the account's row, the lines no tenant's
--     payment explains (a payment nobody linked, an adjustment) and their net; they
--     move to their tenant when the payment's capture comes. 0 on other rows.
--   account_tenant_id: the tenant of the gateway account; amount_minor: what reached
--     the bank for the whole payout, and difference_minor = amount_minor - the net of
--     all its lines (whatever tenant they are split to; null until itemized): what the
--     lines do not explain. Both on the account's row only, null on other tenants'.
with lines as (
    select
        tenant_id,
        provider,
        settlement_ref,
        countif(kind = 'payment' and not unmatched) as payments,
        cast(sum(if(kind = 'payment' and not unmatched, amount_minor, 0)) as int64)
            as payment_gross_minor,
        countif(kind = 'refund' and not unmatched) as refunds,
        cast(sum(if(kind = 'refund' and not unmatched, -net_minor, 0)) as int64)
            as refund_deducted_minor,
        countif(kind = 'dispute' and not unmatched) as disputes,
        cast(sum(if(kind = 'dispute' and not unmatched, -net_minor, 0)) as int64)
            as dispute_deducted_minor,
        countif(kind in ('adjustment', 'other') and not unmatched) as adjustments,
        cast(sum(if(kind in ('adjustment', 'other') and not unmatched, -net_minor, 0)) as int64)
            as adjustment_deducted_minor,
        cast(sum(if(unmatched, 0, fee_minor)) as int64) as fee_minor,
        cast(sum(if(unmatched, 0, tax_minor)) as int64) as tax_minor,
        countif(not unmatched) as items,
        cast(sum(if(unmatched, 0, net_minor)) as int64) as settled_minor,
        countif(unmatched) as unmatched_items,
        cast(sum(if(unmatched, net_minor, 0)) as int64) as unmatched_net_minor
    from (
        select * replace (coalesce(unmatched, false) as unmatched)
        from `${project}.${dataset}.fct_settlement_item`
        where not coalesce(withdrawn, false)
    ) as current_lines
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
            refs.tenant_id = captures.tenant_id
            and refs.provider = captures.provider
            and refs.payment_ref = captures.payment_ref
    where not coalesce(refs.withdrawn, false) and not coalesce(refs.unmatched, false)
    group by refs.tenant_id, refs.provider, refs.settlement_ref
),

-- Every (tenant, settlement) with a part, and the account's own row for each payout.
parts as (
    select
        tenant_id,
        provider,
        settlement_ref,
        account_tenant_id,
        status,
        currency,
        bank_reference,
        settled_at
    from `${project}.${dataset}.fct_settlement_share`
    union distinct
    select
        tenant_id,
        provider,
        settlement_ref,
        tenant_id as account_tenant_id,
        status,
        currency,
        bank_reference,
        settled_at
    from `${project}.${dataset}.fct_settlement`
),

-- One row per tenant and settlement (a share written before a later status keeps the
-- payout's own values on the account's row).
keyed as (
    select * except (part_rank)
    from (
        select
            *,
            row_number() over (
                partition by tenant_id, provider, settlement_ref
                order by tenant_id = account_tenant_id desc, settled_at desc, status asc
            ) as part_rank
        from parts
    ) as ranked
    where part_rank = 1
),

final as (
    select
        keyed.tenant_id,
        keyed.provider,
        keyed.settlement_ref,
        date(keyed.settled_at) as settled_date,
        keyed.status,
        keyed.currency,
        keyed.bank_reference,
        keyed.account_tenant_id,
        if(lines.tenant_id is null, listed.payments, lines.payments) as payments,
        if(
            lines.tenant_id is null, listed.payment_gross_minor, lines.payment_gross_minor
        ) as payment_gross_minor,
        lines.refunds,
        lines.refund_deducted_minor,
        lines.disputes,
        lines.dispute_deducted_minor,
        lines.adjustments,
        lines.adjustment_deducted_minor,
        lines.fee_minor,
        lines.tax_minor,
        lines.items,
        lines.settled_minor,
        coalesce(lines.unmatched_items, 0) as unmatched_items,
        coalesce(lines.unmatched_net_minor, 0) as unmatched_net_minor,
        payouts.amount_minor,
        payouts.amount_minor - payouts.items_net_minor as difference_minor
    from keyed
    left join lines
        on
            keyed.tenant_id = lines.tenant_id
            and keyed.provider = lines.provider
            and keyed.settlement_ref = lines.settlement_ref
    left join listed
        on
            keyed.tenant_id = listed.tenant_id
            and keyed.provider = listed.provider
            and keyed.settlement_ref = listed.settlement_ref
    left join `${project}.${dataset}.fct_settlement` as payouts
        on
            keyed.tenant_id = payouts.tenant_id
            and keyed.provider = payouts.provider
            and keyed.settlement_ref = payouts.settlement_ref
)

select * from final
