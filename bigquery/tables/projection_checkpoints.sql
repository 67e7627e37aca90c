-- The last stream version each warehouse projection applied, per tenant and stream.
-- Written in the same transaction (BigQuery: the same multi-statement transaction) as
-- the facts it guards, so a redelivered event is recognised and changes nothing.
-- key: projection, tenant_id, stream_id
create table if not exists projection_checkpoints (
    projection string not null,
    tenant_id string not null,
    stream_id string not null,
    version int64 not null
)
cluster by projection, tenant_id
