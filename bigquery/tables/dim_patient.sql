-- Patients, pseudonymous: no name, phone, e-mail, date of birth or postcode ever lands
-- in the warehouse. Those travel in the event envelope's personal part, kept apart from
-- the payload and left out of every fact; that part is not encrypted yet (per-patient
-- encryption is still to come).
-- key: tenant_id, patient_id
create table if not exists dim_patient (
    tenant_id string not null,
    patient_id string not null,
    home_branch_id string not null,
    sex string not null,
    registration_channel string not null,
    registered_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(registered_at)
cluster by tenant_id, home_branch_id
