-- One row per patient complaint, at its latest status: open, resolved or closed.
-- opened_at is when it was recorded (the event's occurred_at); resolved_at when it was
-- last resolved or closed (null while open, and again once reopened). branch_id is the
-- branch that recorded it (null when none did). Its text, personal data, never reaches
-- the warehouse: complaint_category is a code.
-- key: tenant_id, complaint_id
create table if not exists fct_complaint (
    tenant_id string not null,
    branch_id string,
    complaint_id string not null,
    patient_id string,
    appointment_id string,
    complaint_category string not null,
    status string not null,
    opened_at timestamp not null,
    resolved_at timestamp,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(opened_at)
cluster by tenant_id, branch_id
