-- fct_gateway_payment with:
--   captured_date, as the projection stored it: the calendar date of captured_at in
--     the branch's time zone (UTC for 'unassigned' or a branch the warehouse does not
--     know; the UTC date for a row written without it);
--   settlement_ref, settled_at: the settlement that pays the capture out, from the
--     tenant's payment lines (fct_settlement_item, kind 'payment') or the payments it
--     listed when recorded (fct_settlement_payment); the earliest if several do; null
--     until one does.
-- A settlement is split per tenant by the payments it pays out, so a capture and its
-- settlement line are in the same tenant, matched by provider and payment ref.
with settled as (
    select
        tenant_id,
        provider,
        payment_ref,
        settlement_ref,
        settled_at
    from `${project}.${dataset}.fct_settlement_item`
    where
        kind = 'payment'
        and payment_ref is not null
        and not coalesce(withdrawn, false)
        and not coalesce(unmatched, false)
    union all
    select
        tenant_id,
        provider,
        payment_ref,
        settlement_ref,
        settled_at
    from `${project}.${dataset}.fct_settlement_payment`
    where not coalesce(withdrawn, false) and not coalesce(unmatched, false)
),

first_settled as (
    select
        tenant_id,
        provider,
        payment_ref,
        settlement_ref,
        settled_at,
        row_number() over (
            partition by tenant_id, provider, payment_ref order by settled_at, settlement_ref
        ) as settlement_rank
    from settled
),

final as (
    select
        captures.* replace (
            coalesce(captures.captured_date, date(captures.captured_at)) as captured_date
        ),
        first_settled.settlement_ref,
        first_settled.settled_at
    from `${project}.${dataset}.fct_gateway_payment` as captures
    left join first_settled
        on
            captures.tenant_id = first_settled.tenant_id
            and captures.provider = first_settled.provider
            and captures.payment_ref = first_settled.payment_ref
            and first_settled.settlement_rank = 1
)

select * from final
