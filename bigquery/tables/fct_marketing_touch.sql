-- One row per marketing touch (a visit from an ad, a campaign link, ...): its source,
-- medium and campaign as tagged, the Google click id (gclid) when it came from an ad,
-- the patient once known, and booking_flag when the touch ended in a booking.
-- touched_at is the event's occurred_at.
-- key: tenant_id, touch_id
create table if not exists fct_marketing_touch (
    tenant_id string not null,
    branch_id string,
    touch_id string not null,
    gclid string,
    session_id string,
    source string not null,
    medium string not null,
    campaign string,
    ad_group string,
    keyword string,
    landing_page string,
    patient_id string,
    booking_flag bool not null,
    touched_at timestamp not null,
    updated_at timestamp not null,
    last_event_id string not null
)
partition by date(touched_at)
cluster by tenant_id, branch_id
