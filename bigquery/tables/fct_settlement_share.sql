-- One row per tenant and gateway settlement it has a part in: the settlement (a
-- Razorpay settlement, a Stripe payout) recorded under the gateway account's tenant
-- (account_tenant_id) pays out this tenant's payments, whose lines are this tenant's
-- rows of fct_settlement_item (or, before the settlement is itemized, its rows of
-- fct_settlement_payment). status, currency, bank_reference (the UTR at Razorpay) and
-- settled_at are the settlement's, as the account's fct_settlement row has them.
-- key: tenant_id, provider, settlement_ref
create table if not exists fct_settlement_share (
    tenant_id string not null,
    provider string not null,
    settlement_ref string not null,
    account_tenant_id string not null,
    status string not null,
    currency string not null,
    bank_reference string,
    settled_at timestamp not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(settled_at)
cluster by tenant_id, provider
