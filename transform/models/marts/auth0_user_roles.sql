-- One row per tenant, user, role and source: `direct` (role_members, read per role) or
-- `organization:<organization id>` (organization_member_roles).
with roles as (
    select tenant, role_id, role_name from {{ ref('stg_auth0__roles') }}
),

direct as (
    select
        members.tenant,
        members.user_id,
        members.role_id,
        'direct' as source,
        'direct' as source_type,
        cast(null as {{ dbt.type_string() }}) as organization_id
    from {{ ref('stg_auth0__role_members') }} as members
),

via_organization as (
    select
        member_roles.tenant,
        member_roles.user_id,
        member_roles.role_id,
        'organization:' || member_roles.organization_id as source,
        'organization' as source_type,
        member_roles.organization_id
    from {{ ref('stg_auth0__organization_member_roles') }} as member_roles
),

org_role_names as (
    select tenant, role_id, max(role_name) as role_name
    from {{ ref('stg_auth0__organization_member_roles') }}
    group by tenant, role_id
),

assignments as (
    select * from direct
    union all
    select * from via_organization
)

select
    assignments.tenant,
    assignments.user_id,
    assignments.role_id,
    coalesce(roles.role_name, org_role_names.role_name) as role_name,
    assignments.source,
    assignments.source_type,
    assignments.organization_id
from assignments
left join roles
    on roles.tenant = assignments.tenant and roles.role_id = assignments.role_id
left join org_role_names
    on org_role_names.tenant = assignments.tenant
    and org_role_names.role_id = assignments.role_id
