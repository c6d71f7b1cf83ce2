-- Every interval still open is a grant in force: present in the current membership staging
-- model of its kind (and every grant in force has its open interval: the build's snapshot
-- saw it), in the same tenant.
with open_grants as (
    select tenant, user_id, access_kind, target_id, organization_id
    from {{ ref('auth0_access_history') }}
    where valid_to is null
),

current_grants as (
    select tenant, user_id, 'role' as access_kind, role_id as target_id,
        cast(null as {{ dbt.type_string() }}) as organization_id
    from {{ ref('stg_auth0__role_members') }}
    union
    select tenant, user_id, 'organization', organization_id, organization_id
    from {{ ref('stg_auth0__organization_members') }}
    union
    select tenant, user_id, 'organization_role', role_id, organization_id
    from {{ ref('stg_auth0__organization_member_roles') }}
)

select 'open, not current' as problem, open_grants.*
from open_grants
where not exists (
    select 1 from current_grants as c
    where c.tenant = open_grants.tenant
      and c.user_id = open_grants.user_id
      and c.access_kind = open_grants.access_kind
      and c.target_id = open_grants.target_id
      and coalesce(c.organization_id, '') = coalesce(open_grants.organization_id, '')
)

union all

select 'current, not open', current_grants.*
from current_grants
where not exists (
    select 1 from open_grants as o
    where o.tenant = current_grants.tenant
      and o.user_id = current_grants.user_id
      and o.access_kind = current_grants.access_kind
      and o.target_id = current_grants.target_id
      and coalesce(o.organization_id, '') = coalesce(current_grants.organization_id, '')
)
