-- Rooms as an SCD type 2 dimension: one row per version of hist_room, valid from its
-- registration (valid_from, inclusive) to the next one's (valid_to, exclusive; null for
-- the version in force, is_current). equipment is the version's comma-separated
-- equipment codes (null when none is listed); there is no dim_equipment.
with versions as (
    select
        *,
        lead(valid_from) over (
            partition by tenant_id, room_id order by valid_from
        ) as valid_to
    from `${project}.${dataset}.hist_room`
),

final as (
    select
        tenant_id,
        branch_id,
        room_id,
        display_name,
        modalities,
        equipment,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from versions
)

select * from final
