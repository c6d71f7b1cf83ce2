-- One row per access grant or revoke the log names, user by user: a succeeded Management API
-- write of role or organization membership, with the ids its body lists
-- (stg_auth0__management_action_ids). What it changes:
--   POST/DELETE /users/{user}/roles {roles}                     -> role: user x each role
--   POST /roles/{role}/users {users}                            -> role: each user x role
--   POST/DELETE /organizations/{org}/members {members}          -> organization: each user x org
--   POST/DELETE /organizations/{org}/members/{user}/roles {roles} -> organization_role
-- A user's or role's deletion revokes access too, but the log does not list whose: those
-- stay out. auth0_access_review reads the grants; the report lists the recent changes.
with actions as (
    select *
    from {{ ref('stg_auth0__management_actions') }}
    where is_succeeded
      and method in ('POST', 'DELETE')
      and (
          (resource_kind = 'user' and sub_resource = 'roles')
          or (resource_kind = 'role' and sub_resource = 'users' and method = 'POST')
          or (resource_kind = 'organization' and sub_resource in ('members', 'members/roles'))
      )
),

ids as (
    select * from {{ ref('stg_auth0__management_action_ids') }}
),

clients as (
    select tenant, client_id, app_name from {{ ref('stg_auth0__clients') }}
)

select
    actions.tenant,
    actions.log_id,
    ids.position,
    actions.event_at,
    case actions.method when 'POST' then 'grant' else 'revoke' end as change_type,
    case
        when actions.sub_resource = 'members' then 'organization'
        when actions.sub_resource = 'members/roles' then 'organization_role'
        else 'role'
    end as access_kind,
    case
        when actions.resource_kind = 'user' then actions.resource_id
        when actions.sub_resource = 'members/roles' then actions.path_user_id
        else ids.named_id
    end as user_id,
    case
        when actions.resource_kind = 'role' then actions.resource_id
        when actions.sub_resource in ('roles', 'members/roles') then ids.named_id
    end as role_id,
    case when actions.resource_kind = 'organization' then actions.resource_id end as organization_id,
    actions.actor_client_id,
    coalesce(actions.actor_client_name, clients.app_name) as actor_client_name,
    actions.actor_user_id,
    actions.actor_user_name,
    actions.action
from actions
inner join ids
    on ids.tenant = actions.tenant
    and ids.log_id = actions.log_id
    -- The list the path calls for: role ids for a user's (or member's) roles, else users.
    and ids.named_kind = case
        when actions.resource_kind = 'user' or actions.sub_resource = 'members/roles' then 'role'
        else 'user'
    end
left join clients
    on clients.tenant = actions.tenant and clients.client_id = actions.actor_client_id
