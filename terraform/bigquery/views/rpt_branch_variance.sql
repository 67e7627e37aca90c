-- What we recorded against what the gateways captured, per tenant, branch, local_date
-- (the branch's calendar day) and currency, in integer minor units (never summed across
-- currencies). A day on which only one side has anything still has its row (the other
-- side's measures 0).
--   recorded_payments, recorded_minor: the non-cash payments we recorded (int_payment,
--     mode card or upi, deposits included, gross of refunds) on their paid_date.
--   captures, captured_minor: the gateways' captures (int_gateway_payment) on their
--     captured_date ('unassigned' branch: a capture whose metadata named no branch).
--   variance_minor = recorded_minor - captured_minor: positive when we recorded more
--     than the gateways captured (a card keyed at the console with no capture), negative
--     when a capture has no recorded payment.
--   fee_minor: the gateways' fees on those captures (tax included; unstated counts 0).
--   settled_captures, settled_net_minor: captures a settlement pays out, and their net
--     (amount - fee), on the capture's day however late the settlement came;
--     awaiting_settlement_captures, awaiting_settlement_net_minor: those none does yet.
-- Every sum is cast to int64: DuckDB sums int64 to int128, which a filter on the view
-- then fails to convert.
with recorded as (
    select
        tenant_id,
        branch_id,
        paid_date as local_date,
        currency,
        count(*) as recorded_payments,
        cast(sum(amount_minor) as int64) as recorded_minor
    from `${project}.${dataset}.int_payment`
    where mode != 'cash'
    group by tenant_id, branch_id, paid_date, currency
),

captured as (
    select
        tenant_id,
        branch_id,
        captured_date as local_date,
        currency,
        count(*) as captures,
        cast(sum(amount_minor) as int64) as captured_minor,
        cast(sum(coalesce(fee_minor, 0)) as int64) as fee_minor,
        countif(settlement_ref is not null) as settled_captures,
        cast(sum(if(settlement_ref is not null, net_minor, 0)) as int64) as settled_net_minor,
        countif(settlement_ref is null) as awaiting_settlement_captures,
        cast(sum(if(settlement_ref is null, net_minor, 0)) as int64)
            as awaiting_settlement_net_minor
    from `${project}.${dataset}.int_gateway_payment`
    group by tenant_id, branch_id, captured_date, currency
),

final as (
    select
        coalesce(recorded.tenant_id, captured.tenant_id) as tenant_id,
        coalesce(recorded.branch_id, captured.branch_id) as branch_id,
        coalesce(recorded.local_date, captured.local_date) as local_date,
        coalesce(recorded.currency, captured.currency) as currency,
        coalesce(recorded.recorded_payments, 0) as recorded_payments,
        coalesce(recorded.recorded_minor, 0) as recorded_minor,
        coalesce(captured.captures, 0) as captures,
        coalesce(captured.captured_minor, 0) as captured_minor,
        coalesce(recorded.recorded_minor, 0)
        - coalesce(captured.captured_minor, 0) as variance_minor,
        coalesce(captured.fee_minor, 0) as fee_minor,
        coalesce(captured.settled_captures, 0) as settled_captures,
        coalesce(captured.settled_net_minor, 0) as settled_net_minor,
        coalesce(captured.awaiting_settlement_captures, 0) as awaiting_settlement_captures,
        coalesce(captured.awaiting_settlement_net_minor, 0) as awaiting_settlement_net_minor
    from recorded
    full outer join captured
        on
            recorded.tenant_id = captured.tenant_id
            and recorded.branch_id = captured.branch_id
            and recorded.local_date = captured.local_date
            and recorded.currency = captured.currency
)

select * from final
