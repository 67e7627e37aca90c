-- One row per appointment, at its latest state. start_date is the clinic's own calendar
-- date of the start (the wall clock the booking was made in), not the UTC date.
-- key: tenant_id, appointment_id
create table if not exists fct_appointment (
    tenant_id string not null,
    branch_id string not null,
    appointment_id string not null,
    patient_id string not null,
    clinician_id string not null,
    room_id string not null,
    modality string not null,
    procedure_code string not null,
    channel string not null,
    referral_id string,
    gclid string,
    status string not null,
    booked_at timestamp not null,
    start_at timestamp not null,
    start_date date not null,
    duration_minutes int64 not null,
    price_minor int64 not null,
    currency string not null,
    reschedule_count int64 not null,
    cancel_reason string,
    cancelled_at timestamp,
    completed_at timestamp,
    no_show_at timestamp,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by start_date
cluster by tenant_id, branch_id
