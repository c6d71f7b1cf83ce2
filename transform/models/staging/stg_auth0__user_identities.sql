-- `users.identities` flattened: one row per tenant, user and linked identity (index 0 is the
-- primary identity).
{%- set parts = auth0_tenant_relations('users') %}
{%- if parts %}
with indexed as (
{%- for tenant, rel in parts %}
    select
        {{ auth0_tenant_literal(tenant) }} as tenant,
        "user_id" as user_id,
        "identities" as identities,
        {{ auth0_index_series(auth0_array_length('"identities"')) }} as identity_index
    from {{ rel }} as src
    where {{ auth0_array_length('"identities"') }} > 0
      and {{ auth0_not_deleted(rel, 'src') }}
    {{- "\n    union all" if not loop.last }}
{%- endfor %}
)

select
    tenant,
    cast(user_id as {{ dbt.type_string() }}) as user_id,
    cast(identity_index as {{ dbt.type_bigint() }}) as identity_index,
    cast({{ auth0_array_item_text('identities', 'identity_index', 'connection') }} as {{ dbt.type_string() }}) as connection,
    cast({{ auth0_array_item_text('identities', 'identity_index', 'provider') }} as {{ dbt.type_string() }}) as provider,
    cast({{ auth0_array_item_text('identities', 'identity_index', 'user_id') }} as {{ dbt.type_string() }}) as identity_user_id,
    cast({{ auth0_array_item_text('identities', 'identity_index', 'isSocial') }} as {{ dbt.type_boolean() }}) as is_social,
    identity_index = 0 as is_primary
from indexed
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as tenant,
    cast(null as {{ dbt.type_string() }}) as user_id,
    cast(null as {{ dbt.type_bigint() }}) as identity_index,
    cast(null as {{ dbt.type_string() }}) as connection,
    cast(null as {{ dbt.type_string() }}) as provider,
    cast(null as {{ dbt.type_string() }}) as identity_user_id,
    cast(null as {{ dbt.type_boolean() }}) as is_social,
    cast(null as {{ dbt.type_boolean() }}) as is_primary
where 1 = 0
{%- endif %}
