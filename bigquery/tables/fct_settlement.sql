-- One row per gateway settlement (a Razorpay settlement, a Stripe payout) to the
-- clinic's bank, under the tenant of the gateway account, in integer minor units of its
-- currency: amount_minor is what reached the bank, fee_minor (including tax_minor) what
-- the gateway says it kept, null when it did not say. settled_at is when the gateway
-- says the money arrives (Stripe's arrival_date), or else when it reported the
-- settlement. items_count and items_net_minor (the sum of every line's signed net,
-- whichever tenant it is split to) are null until the settlement is itemized. Its
-- lines are split per tenant by the payments they pay out (fct_settlement_share).
-- key: tenant_id, provider, settlement_ref
create table if not exists fct_settlement (
    tenant_id string not null,
    provider string not null,
    settlement_ref string not null,
    status string not null,
    amount_minor int64 not null,
    fee_minor int64,
    tax_minor int64,
    currency string not null,
    bank_reference string,
    settled_at timestamp not null,
    items_count int64,
    items_net_minor int64,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(settled_at)
cluster by tenant_id, provider
