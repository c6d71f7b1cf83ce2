-- Who held which access when: one row per grant interval of a role (`role_members`), an
-- organization membership (`organization_members`) or an organization role
-- (`organization_member_roles`), from `valid_from` to `valid_to` (null while it holds).
--
-- Two sources, merged as one timeline of events per grant (tenant, user, kind, target,
-- organization; every id is one tenant's, so `tenant` goes with each key and join):
-- - the snapshots every `dbt build` takes of the membership staging models: the grant is
--   "on" at the build that first saw it and "off" at the first build that no longer did;
--   and, after every log event below, the first build that had read it (its tenant's
--   `log_through`, see snp_auth0__builds) says whether the grant was there then;
-- - the log: a grant or revoke (stg_auth0__access_changes) at its `date`; a removal from an
--   organization revokes the member's roles in it; a user's deletion
--   (stg_auth0__user_deletions) revokes all the user's grants.
-- An interval opens at an "on" event while the grant was off and closes at the next "off"
-- event, so a bound comes from the log wherever the log had the change (`valid_from_source`
-- / `valid_to_source` = 'log', or 'user_deleted'), else from a build ('run': the grant was
-- made, or ended, after the previous build and before this one). A grant made and removed
-- between two builds has its interval from the log alone.
-- (`materialized`, PostgreSQL 12+ and DuckDB: each input is read once, not once per
-- reference; the log's parsing views are slow to repeat.)
with builds as materialized (
    select tenant, built_at, coalesce(log_through, built_at) as log_through
    from {{ ref('snp_auth0__builds') }}
),

spans as materialized (
    select
        tenant,
        user_id,
        cast('role' as {{ dbt.type_string() }}) as access_kind,
        role_id as target_id,
        cast(null as {{ dbt.type_string() }}) as organization_id,
        dbt_valid_from as seen_from,
        dbt_valid_to as seen_to
    from {{ ref('snp_auth0__role_members') }}

    union all

    select
        tenant, user_id, 'organization', organization_id, organization_id, dbt_valid_from,
        dbt_valid_to
    from {{ ref('snp_auth0__organization_members') }}

    union all

    select
        tenant, user_id, 'organization_role', role_id, organization_id, dbt_valid_from,
        dbt_valid_to
    from {{ ref('snp_auth0__organization_member_roles') }}
),

changes as materialized (
    select
        tenant,
        log_id,
        position,
        event_at,
        change_type,
        access_kind,
        user_id,
        case when access_kind = 'organization' then organization_id else role_id end as target_id,
        organization_id,
        actor_client_id
    from {{ ref('stg_auth0__access_changes') }}
    where user_id is not null
),

grant_keys as materialized (
    select distinct tenant, user_id, access_kind, target_id, organization_id from spans
    union
    select distinct tenant, user_id, access_kind, target_id, organization_id from changes
),

-- What the log says, per grant: 1 = on, 0 = off.
log_events as materialized (
    select
        tenant, user_id, access_kind, target_id, organization_id, event_at,
        case change_type when 'grant' then 1 else 0 end as is_on,
        cast('log' as {{ dbt.type_string() }}) as bound_source,
        log_id, position, actor_client_id
    from changes

    union all

    -- A member removed from an organization loses its roles there.
    select
        grant_keys.tenant, grant_keys.user_id, grant_keys.access_kind, grant_keys.target_id,
        grant_keys.organization_id, changes.event_at, 0, 'log',
        changes.log_id, changes.position, changes.actor_client_id
    from grant_keys
    inner join changes
        on changes.access_kind = 'organization'
        and changes.change_type = 'revoke'
        and changes.tenant = grant_keys.tenant
        and changes.user_id = grant_keys.user_id
        and changes.organization_id = grant_keys.organization_id
    where grant_keys.access_kind = 'organization_role'

    union all

    -- A deleted user loses every grant.
    select
        grant_keys.tenant, grant_keys.user_id, grant_keys.access_kind, grant_keys.target_id,
        grant_keys.organization_id, deletions.deleted_at, 0, 'user_deleted',
        deletions.log_id, 0, deletions.actor_client_id
    from grant_keys
    inner join {{ ref('stg_auth0__user_deletions') }} as deletions
        on deletions.tenant = grant_keys.tenant and deletions.user_id = grant_keys.user_id
),

-- The first build that had read each logged event (its tenant's log that far), and whether
-- its snapshot held the grant.
observed as (
    select
        log_events.tenant, log_events.user_id, log_events.access_kind, log_events.target_id,
        log_events.organization_id,
        (select min(builds.built_at) from builds
         where builds.tenant = log_events.tenant
           and builds.log_through >= log_events.event_at) as built_at
    from log_events
    where log_events.log_id is not null
),

build_events as (
    select
        tenant, user_id, access_kind, target_id, organization_id, seen_from as event_at,
        1 as is_on
    from spans

    union all

    select tenant, user_id, access_kind, target_id, organization_id, seen_to, 0
    from spans
    where seen_to is not null

    union all

    select
        observed.tenant, observed.user_id, observed.access_kind, observed.target_id,
        observed.organization_id, observed.built_at,
        case when exists (
            select 1 from spans
            where spans.tenant = observed.tenant
              and spans.user_id = observed.user_id
              and spans.access_kind = observed.access_kind
              and spans.target_id = observed.target_id
              and coalesce(spans.organization_id, '') = coalesce(observed.organization_id, '')
              and spans.seen_from <= observed.built_at
              and (spans.seen_to is null or spans.seen_to > observed.built_at)
        ) then 1 else 0 end
    from observed
    where observed.built_at is not null
),

timeline as (
    select
        tenant, user_id, access_kind, target_id, organization_id, event_at, is_on,
        bound_source, log_id, position, actor_client_id, 0 as from_build
    from log_events

    union all

    select
        tenant, user_id, access_kind, target_id, organization_id, event_at, is_on,
        'run', cast(null as {{ dbt.type_string() }}), 0, cast(null as {{ dbt.type_string() }}), 1
    from build_events
),

ordered as (
    select
        timeline.*,
        lag(is_on) over (
            partition by tenant, user_id, access_kind, target_id, organization_id
            order by event_at, from_build, log_id, position, is_on
        ) as was_on
    from timeline
),

-- Where the grant turns on or off; on and off alternate, so each "on" is followed by its end.
transitions as (
    select
        ordered.*,
        lead(event_at) over w as ended_at,
        lead(bound_source) over w as ended_source,
        lead(log_id) over w as ended_log_id,
        lead(actor_client_id) over w as ended_by_client_id
    from ordered
    where (is_on = 1 and coalesce(was_on, 0) = 0) or (is_on = 0 and was_on = 1)
    window w as (
        partition by tenant, user_id, access_kind, target_id, organization_id
        order by event_at, from_build, log_id, position, is_on
    )
),

roles as (
    select tenant, role_id, role_name from {{ ref('stg_auth0__roles') }}
),

organizations as (
    select tenant, organization_id, organization_name from {{ ref('stg_auth0__organizations') }}
)

select
    transitions.tenant,
    transitions.user_id,
    transitions.access_kind,
    transitions.target_id,
    case
        when transitions.access_kind = 'organization' then organizations.organization_name
        else roles.role_name
    end as target_name,
    transitions.organization_id,
    organizations.organization_name,
    transitions.event_at as valid_from,
    transitions.bound_source as valid_from_source,
    transitions.log_id as valid_from_log_id,
    transitions.actor_client_id as granted_by_client_id,
    transitions.ended_at as valid_to,
    transitions.ended_source as valid_to_source,
    transitions.ended_log_id as valid_to_log_id,
    transitions.ended_by_client_id as revoked_by_client_id
from transitions
left join roles
    on transitions.access_kind <> 'organization'
    and roles.tenant = transitions.tenant
    and roles.role_id = transitions.target_id
left join organizations
    on organizations.tenant = transitions.tenant
    and organizations.organization_id = transitions.organization_id
where transitions.is_on = 1
