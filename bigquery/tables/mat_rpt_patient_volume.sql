-- rpt_patient_volume, materialized per tenant by the refresh-reports job (and by a
-- read that finds it stale: mymedic.reports.materialize). Same columns, same meaning;
-- report_refresh says when and from which state of the facts it was computed.
-- key: tenant_id, branch_id, modality, month
create table if not exists mat_rpt_patient_volume (
    tenant_id string not null,
    branch_id string,
    modality string,
    month date,
    scans int64,
    patients int64,
    new_patients int64,
    returning_patients int64,
    cancelled int64,
    no_shows int64,
    still_booked int64
)
partition by month
cluster by tenant_id, branch_id
