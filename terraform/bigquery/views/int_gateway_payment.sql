-- fct_gateway_payment with:
--   captured_date, as the projection stored it: the calendar date of captured_at in
--     the branch's time zone (UTC for 'unassigned' or a branch the warehouse does not
--     know; the UTC date for a row written without it);
--   settlement_ref, settled_at: the settlement that pays the capture out, from its
--     payment lines (fct_settlement_item, kind 'payment') or the payments it listed when
--     recorded (fct_settlement_payment); the earliest if several do; null until one does.
-- A settlement is kept under the gateway account's tenant and a capture under the
-- clinic's, so they are matched by provider and payment ref (unique at the gateway).
with settled as (
    select
        provider,
        payment_ref,
        settlement_ref,
        settled_at
    from `${project}.${dataset}.fct_settlement_item`
    where kind = 'payment' and payment_ref is not null
    union all
    select
        provider,
        payment_ref,
        settlement_ref,
        settled_at
    from `${project}.${dataset}.fct_settlement_payment`
),

first_settled as (
    select
        provider,
        payment_ref,
        settlement_ref,
        settled_at,
        row_number() over (
            partition by provider, payment_ref order by settled_at, settlement_ref
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
            captures.provider = first_settled.provider
            and captures.payment_ref = first_settled.payment_ref
            and first_settled.settlement_rank = 1
)

select * from final
