-- One row per line of an itemized settlement, under the tenant whose payment it is
-- (fct_settlement_share): kind payment (a capture it pays out, payment_ref naming it),
-- refund or dispute (deducted from it, payment_ref naming the payment), adjustment or
-- other; in integer minor units of the settlement's currency. amount_minor is the
-- line's own amount, fee_minor (including tax_minor) the gateway's fee on it, net_minor
-- what the line adds to the settlement (negative for a deduction). settled_at is the
-- settlement's (fct_settlement.settled_at). A line no tenant's payment explains (an
-- unknown payment, an adjustment) is the gateway account's tenant's, with unmatched
-- true; withdrawn is true once it was found to be another tenant's (its capture came
-- late): a withdrawn line counts for nobody here. Both null in a row written before
-- settlements were split: false.
-- key: tenant_id, provider, settlement_ref, item_ref
create table if not exists fct_settlement_item (
    tenant_id string not null,
    provider string not null,
    settlement_ref string not null,
    item_ref string not null,
    kind string not null,
    payment_ref string,
    amount_minor int64 not null,
    fee_minor int64 not null,
    tax_minor int64 not null,
    net_minor int64 not null,
    currency string not null,
    settled_at timestamp not null,
    source string not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null,
    unmatched bool,
    withdrawn bool
)
partition by date(settled_at)
cluster by tenant_id, provider
