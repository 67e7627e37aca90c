-- One row per referral, as received: who referred which patient, and when
-- (received_at, the event's occurred_at). branch_id is the branch that recorded it
-- (null when none did); rpt_referral_source dates it by that branch's calendar.
-- key: tenant_id, referral_id
create table if not exists fct_referral (
    tenant_id string not null,
    branch_id string,
    referral_id string not null,
    patient_id string not null,
    referrer_id string not null,
    referrer_type string not null,
    received_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(received_at)
cluster by tenant_id, branch_id
