-- The current access per user, for an access review: one row per tenant, user, role and source
-- (`direct`, from role_members, or `organization:<id>`, from organization_member_roles: the
-- grant a reviewer keeps or revokes), with what the role gives and when and by whom it was
-- granted where the log knows it.
--
-- Permissions are a count and a list on the row, not one row per permission: the reviewer
-- certifies or revokes the grant, never one permission of a role, so a row per permission
-- would repeat each decision (and its grant evidence) as many times as the role has
-- permissions. The list (`permission (API identifier)`, sorted) says what the role gives;
-- role_permissions has the rows for who needs them.
--
-- `granted_at` / `granted_by_*` / `granted_log_id`: the latest succeeded write in the log
-- that made this grant (stg_auth0__access_changes: `Assign roles to a user`, `Assign users
-- to a role`, `Assign user roles to an Organization member`), unless a revoke of it came
-- later (a role removed, or the member removed from the organization): the grant in force
-- was then made in a way the log does not show. Null where the log does not know (a grant
-- older than the log's retention, or made before the log was read).
-- `is_privileged`: the role's name is in the var `privileged_roles`.
{%- set privileged = auth0_privileged_roles() %}
with assignments as (
    select * from {{ ref('auth0_user_roles') }}
),

permissions as (
    select
        tenant,
        role_id,
        count(*) as permission_count,
        {{ dbt.listagg(
            "permission_name || ' (' || resource_server_identifier || ')'",
            "', '",
            "order by permission_name || ' (' || resource_server_identifier || ')'"
        ) }} as permissions
    from {{ ref('stg_auth0__role_permissions') }}
    group by tenant, role_id
),

changes as (
    select * from {{ ref('stg_auth0__access_changes') }}
),

grants as (
    select
        changes.*,
        row_number() over (
            partition by tenant, access_kind, user_id, role_id, organization_id
            order by event_at desc, log_id desc
        ) as recency
    from changes
    where change_type = 'grant' and access_kind in ('role', 'organization_role')
),

-- The latest grant of each (user, role, organization), when nothing revoked it since.
standing_grants as (
    select grants.*
    from grants
    where recency = 1
      and not exists (
          select 1
          from changes as revokes
          where revokes.change_type = 'revoke'
            and revokes.tenant = grants.tenant
            and revokes.user_id = grants.user_id
            and (
                (grants.access_kind = 'role' and revokes.access_kind = 'role'
                    and revokes.role_id = grants.role_id)
                or (grants.access_kind = 'organization_role'
                    and revokes.organization_id = grants.organization_id
                    and (revokes.access_kind = 'organization'
                        or (revokes.access_kind = 'organization_role'
                            and revokes.role_id = grants.role_id)))
            )
            and (revokes.event_at > grants.event_at
                or (revokes.event_at = grants.event_at and revokes.log_id > grants.log_id))
      )
),

users as (
    select tenant, user_id, email from {{ ref('stg_auth0__users') }}
),

organizations as (
    select tenant, organization_id, organization_name from {{ ref('stg_auth0__organizations') }}
)

select
    assignments.tenant,
    assignments.user_id,
    users.email,
    assignments.role_id,
    assignments.role_name,
    assignments.source,
    assignments.source_type,
    assignments.organization_id,
    organizations.organization_name,
    {% if privileged -%}
    coalesce(assignments.role_name in (
        {%- for name in privileged %}'{{ name | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
    ), false)
    {%- else -%}
    false
    {%- endif %} as is_privileged,
    coalesce(permissions.permission_count, 0) as permission_count,
    permissions.permissions,
    standing_grants.event_at as granted_at,
    standing_grants.actor_client_id as granted_by_client_id,
    standing_grants.actor_client_name as granted_by_client_name,
    standing_grants.actor_user_name as granted_by_user_name,
    standing_grants.log_id as granted_log_id
from assignments
left join users
    on users.tenant = assignments.tenant and users.user_id = assignments.user_id
left join organizations
    on organizations.tenant = assignments.tenant
    and organizations.organization_id = assignments.organization_id
left join permissions
    on permissions.tenant = assignments.tenant and permissions.role_id = assignments.role_id
left join standing_grants
    on standing_grants.tenant = assignments.tenant
    and standing_grants.user_id = assignments.user_id
    and standing_grants.role_id = assignments.role_id
    and (
        (assignments.source_type = 'direct' and standing_grants.access_kind = 'role')
        or (assignments.source_type = 'organization'
            and standing_grants.access_kind = 'organization_role'
            and standing_grants.organization_id = assignments.organization_id)
    )
