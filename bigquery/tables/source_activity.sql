-- When each integration last delivered anything to a tenant: last_recorded_at is the
-- latest recorded_at (our clock, not the source's) of its events: Stripe and Razorpay
-- (gateway and settlement facts, by provider), Zoho CRM (record synced or
-- quarantined), Google Ads (cost and click revisions). The stale-data alert reads it.
-- key: tenant_id, source
create table if not exists source_activity (
    tenant_id string not null,
    source string not null,
    last_recorded_at timestamp not null,
    last_event_id string not null
)
cluster by tenant_id
