-- One row per Management API write in a tenant's log: when, who (the API client, and the dashboard
-- user where the event names one), what (Auth0's description, the method, the resource kind
-- and id from the path), on which user, and whether it succeeded. No request bodies: only
-- the user and role ids of membership and role changes (stg_auth0__management_action_ids).
with actions as (
    select * from {{ ref('stg_auth0__management_actions') }}
),

named as (
    select
        tenant,
        log_id,
        named_kind,
        count(*) as n,
        min(named_id) as first_id,
        {{ dbt.listagg('named_id', "','", 'order by position') }} as ids
    from {{ ref('stg_auth0__management_action_ids') }}
    group by tenant, log_id, named_kind
),

clients as (
    select tenant, client_id, app_name from {{ ref('stg_auth0__clients') }}
)

select
    actions.tenant,
    actions.log_id,
    actions.event_at,
    {{ auth0_day('actions.event_at') }} as event_date,
    actions.event_type,
    actions.actor_client_id,
    -- The name the event carries, else the client's current name.
    coalesce(actions.actor_client_name, clients.app_name) as actor_client_name,
    actions.actor_user_id,
    actions.actor_user_name,
    actions.actor_ip,
    actions.action,
    actions.method,
    actions.request_path,
    actions.resource_kind,
    actions.resource_id,
    actions.sub_resource,
    actions.sub_resource_id,
    -- The user the path names, else the body's only user (one member added, ...).
    coalesce(
        actions.path_user_id,
        case when named_users.n = 1 then named_users.first_id end
    ) as target_user_id,
    named_users.ids as named_user_ids,
    named_roles.ids as named_role_ids,
    actions.status_code,
    actions.is_succeeded
from actions
left join clients
    on clients.tenant = actions.tenant and clients.client_id = actions.actor_client_id
left join named as named_users
    on named_users.tenant = actions.tenant
    and named_users.log_id = actions.log_id
    and named_users.named_kind = 'user'
left join named as named_roles
    on named_roles.tenant = actions.tenant
    and named_roles.log_id = actions.log_id
    and named_roles.named_kind = 'role'
