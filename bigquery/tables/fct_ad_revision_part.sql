-- The Google Ads sync's ledger: one row per part of each revision of an ad account's
-- day (kind 'cost' or 'clicks'), in the tenant the account belongs to. A revision is
-- complete once all its parts are here; the latest complete revision of a day replaces
-- every earlier one (int_ad_active_revision), also when it holds no rows at all
-- (row_count 0: the day's content was withdrawn). currency is the account's (cost only).
-- key: tenant_id, kind, customer_id, day, revision, part
create table if not exists fct_ad_revision_part (
    tenant_id string not null,
    kind string not null,
    customer_id string not null,
    day date not null,
    revision int64 not null,
    part int64 not null,
    parts int64 not null,
    content_hash string not null,
    currency string,
    time_zone string,
    row_count int64 not null,
    recorded_at timestamp not null,
    last_event_id string not null
)
partition by day
cluster by tenant_id, customer_id
