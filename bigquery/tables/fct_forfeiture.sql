-- One row per deposit forfeiture: the part of an appointment's deposits kept under the
-- tenant's cancellation policy after a late cancellation or a no-show (trigger), with
-- the policy applied (forfeit within policy_within_hours, policy_percent of the
-- deposits held). forfeiture_id is the id of the event that recorded it.
-- hours_before_start is negative for a no-show marked after the start. forfeited_date is
-- the calendar date of forfeited_at in the branch's time zone (as fct_payment's
-- paid_date). Every report dates forfeitures by it.
-- key: tenant_id, appointment_id, forfeiture_id
create table if not exists fct_forfeiture (
    tenant_id string not null,
    branch_id string not null,
    appointment_id string not null,
    forfeiture_id string not null,
    patient_id string not null,
    trigger string not null,
    amount_minor int64 not null,
    currency string not null,
    hours_before_start float64 not null,
    policy_within_hours int64 not null,
    policy_percent int64 not null,
    forfeited_at timestamp not null,
    recorded_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null,
    forfeited_date date
)
partition by forfeited_date
cluster by tenant_id, branch_id
