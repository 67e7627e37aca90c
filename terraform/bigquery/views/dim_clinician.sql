-- Clinicians as an SCD type 2 dimension: one row per version of hist_clinician, valid
-- from its registration (valid_from, inclusive) to the next one's (valid_to,
-- exclusive; null for the version in force, is_current).
with versions as (
    select
        *,
        lead(valid_from) over (
            partition by tenant_id, clinician_id order by valid_from
        ) as valid_to
    from `${project}.${dataset}.hist_clinician`
),

final as (
    select
        tenant_id,
        branch_id,
        clinician_id,
        display_name,
        modalities,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from versions
)

select * from final
