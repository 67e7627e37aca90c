-- One row per gateway payment a settlement says it pays out when it is recorded (its
-- payment_refs: a Razorpay settlement whose payment ids were joined in), before or
-- without its itemization, under the tenant whose payment it is (as
-- fct_settlement_item; unmatched and withdrawn likewise). int_gateway_payment takes a
-- capture's settlement from here or from the settlement's payment lines.
-- key: tenant_id, provider, settlement_ref, payment_ref
create table if not exists fct_settlement_payment (
    tenant_id string not null,
    provider string not null,
    settlement_ref string not null,
    payment_ref string not null,
    settled_at timestamp not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null,
    unmatched bool,
    withdrawn bool
)
partition by date(settled_at)
cluster by tenant_id, provider
