-- One row per NPS response: the score (0-10) and when it was given (responded_at, the
-- event's occurred_at); branch_id is the branch that recorded it. The comment, personal
-- data, never reaches the warehouse. rpt_nps dates it by the branch's calendar.
-- key: tenant_id, response_id
create table if not exists fct_nps_response (
    tenant_id string not null,
    branch_id string,
    response_id string not null,
    patient_id string not null,
    appointment_id string,
    score int64 not null,
    responded_at timestamp not null,
    last_event_id string not null
)
partition by date(responded_at)
cluster by tenant_id, branch_id
