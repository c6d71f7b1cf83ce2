-- The ids a few membership and role changes name in their request body, and nothing else of
-- any body (bodies can carry secrets): one row per tenant, change and id. The allowlist:
--   /users/{id}/roles and /organizations/{id}/members/{user_id}/roles: `roles` (role ids);
--   /roles/{id}/users: `users`; /organizations/{id}/members: `members` (user ids).
-- depends_on: {{ ref('stg_auth0__management_actions') }}
{%- set parts = auth0_tenant_relations('logs') %}
{%- set lists = [
    ['roles', 'role', "(actions.resource_kind = 'user' and actions.sub_resource = 'roles') or actions.sub_resource = 'members/roles'"],
    ['users', 'user', "actions.resource_kind = 'role' and actions.sub_resource = 'users'"],
    ['members', 'user', "actions.resource_kind = 'organization' and actions.sub_resource = 'members'"]
] %}
{%- if parts %}
with actions as (
    select tenant, log_id, resource_kind, sub_resource
    from {{ ref('stg_auth0__management_actions') }}
),

indexed as (
{%- for tenant, rel in parts %}
{%- set tenant_loop = loop %}
{%- for key, kind, allowed in lists %}
    select
        actions.tenant,
        src."log_id" as log_id,
        '{{ key }}' as body_key,
        '{{ kind }}' as named_kind,
        src."details" as details,
        {{ auth0_index_series(auth0_json_path_array_length('src."details"', ['request', 'body', key])) }} as position
    from {{ rel }} as src
    inner join actions
        on actions.tenant = {{ auth0_tenant_literal(tenant) }} and actions.log_id = src."log_id"
    where ({{ allowed }})
      and {{ auth0_json_path_array_length('src."details"', ['request', 'body', key]) }} > 0
    {{- "\n    union all" if not (loop.last and tenant_loop.last) }}
{%- endfor %}
{%- endfor %}
)

select
    cast(tenant as {{ dbt.type_string() }}) as tenant,
    cast(log_id as {{ dbt.type_string() }}) as log_id,
    cast(named_kind as {{ dbt.type_string() }}) as named_kind,
    cast(position as {{ dbt.type_bigint() }}) as position,
    cast(case body_key
{%- for key, kind, allowed in lists %}
        when '{{ key }}' then {{ auth0_json_path_item_text('details', ['request', 'body', key], 'position') }}
{%- endfor %}
    end as {{ dbt.type_string() }}) as named_id
from indexed
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as tenant,
    cast(null as {{ dbt.type_string() }}) as log_id,
    cast(null as {{ dbt.type_string() }}) as named_kind,
    cast(null as {{ dbt.type_bigint() }}) as position,
    cast(null as {{ dbt.type_string() }}) as named_id
where 1 = 0
{%- endif %}
