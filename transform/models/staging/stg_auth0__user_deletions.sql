-- One row per deletion of a user known to the warehouse, per tenant: from the log (`sdu` /
-- `du` events, and succeeded `DELETE /users/{id}` calls, at the event's `date`), else from
-- the `users` tombstone (`_sdc_deleted_at`: when the tap's run confirmed it; gone when the
-- loader hard deletes). auth0_access_history closes a deleted user's grants at the earliest
-- one after the grant began; a user id is one tenant's, so `tenant` goes with it.
with logged as (
    select tenant, log_id, event_at as deleted_at, user_id, client_id as actor_client_id
    from {{ ref('stg_auth0__logs') }}
    where type_code in ('sdu', 'du') and user_id is not null and user_id <> ''

    union all

    select tenant, log_id, event_at as deleted_at, resource_id as user_id, actor_client_id
    from {{ ref('stg_auth0__management_actions') }}
    where is_succeeded
      and method = 'DELETE'
      and request_path like '/api/v2/users/%'
      and sub_resource is null
      and resource_id is not null
)

select
    tenant,
    log_id,
    deleted_at,
    user_id,
    actor_client_id,
    cast('log' as {{ dbt.type_string() }}) as deletion_source
from logged
{%- for tenant, users in auth0_tenant_relations('users') if auth0_has_column(users, '_sdc_deleted_at') %}

union all

-- A tombstone in tenant {{ tenant }} without any logged deletion of that user there (one
-- outside the log's retention, or found by a full pass).
select
    {{ auth0_tenant_literal(tenant) }} as tenant,
    cast(null as {{ dbt.type_string() }}) as log_id,
    cast(src."_sdc_deleted_at" as {{ dbt.type_timestamp() }}) as deleted_at,
    cast(src."user_id" as {{ dbt.type_string() }}) as user_id,
    cast(null as {{ dbt.type_string() }}) as actor_client_id,
    cast('tombstone' as {{ dbt.type_string() }}) as deletion_source
from {{ users }} as src
where src."_sdc_deleted_at" is not null
  and not exists (
      select 1 from logged
      where logged.tenant = {{ auth0_tenant_literal(tenant) }} and logged.user_id = src."user_id"
  )
{%- endfor %}
