-- A grant (tenant, user, kind, target, organization) holds through one interval at a time: each
-- interval starts at or after the previous one's end, and only the last may be open.
select *
from (
    select
        tenant,
        user_id,
        access_kind,
        target_id,
        organization_id,
        valid_from,
        lag(valid_to) over w as previous_valid_to,
        lag(valid_from) over w as previous_valid_from
    from {{ ref('auth0_access_history') }}
    window w as (
        partition by tenant, user_id, access_kind, target_id, organization_id
        order by valid_from
    )
) as intervals
where previous_valid_from is not null
  and (previous_valid_to is null or previous_valid_to > valid_from)
