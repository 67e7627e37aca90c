-- Payments by branch, day, currency and mode (upi, card, cash), in integer minor units:
-- every payment taken against an appointment (deposits included) or captured against
-- an invoice, on the branch's own calendar day it was paid (int_payment.paid_date).
-- Gross of refunds, which are fct_refund's (and rpt_leakage's). Never summed across
-- currencies: each currency is its own row.
with final as (
    select
        tenant_id,
        branch_id,
        paid_date,
        currency,
        mode,
        count(*) as payments,
        sum(amount_minor) as amount_minor,
        countif(kind = 'deposit') as deposits,
        sum(if(kind = 'deposit', amount_minor, 0)) as deposit_minor
    from `${project}.${dataset}.int_payment`
    group by tenant_id, branch_id, paid_date, currency, mode
)

select * from final
