-- One row per tenant and user: identity, activity, roles (direct and via organizations), organizations
-- and MFA. `mfa_*` columns are null unless `user_authentication_methods` (opt-in) was
-- extracted.
{%- set mfa_extracted = auth0_extracted('user_authentication_methods') %}

with users as (
    select * from {{ ref('stg_auth0__users') }}
),

user_roles as (
    select * from {{ ref('auth0_user_roles') }}
),

role_counts as (
    select
        tenant,
        user_id,
        count(distinct role_id) as roles_count,
        count(distinct case when source_type = 'direct' then role_id end) as direct_roles_count,
        count(distinct case when source_type = 'organization' then role_id end)
            as organization_roles_count
    from user_roles
    group by tenant, user_id
),

role_names as (
    select
        tenant,
        user_id,
        {{ dbt.listagg('role_name', "', '", 'order by role_name') }} as role_names
    from (
        select distinct tenant, user_id, role_name from user_roles where role_name is not null
    ) as named
    group by tenant, user_id
),

organizations as (
    select tenant, user_id, count(distinct organization_id) as organizations_count
    from {{ ref('stg_auth0__organization_members') }}
    group by tenant, user_id
),

mfa as (
    select
        tenant,
        user_id,
        count(*) as mfa_methods_count,
        {{ dbt.listagg('method_type', "', '", 'order by method_type') }} as mfa_method_types
    from (
        select distinct tenant, user_id, method_type
        from {{ ref('stg_auth0__user_authentication_methods') }}
        where method_type <> 'password' and coalesce(is_confirmed, true)
    ) as methods
    group by tenant, user_id
)

select
    users.tenant,
    users.user_id,
    users.email,
    users.email_domain,
    users.is_email_verified,
    users.full_name,
    users.primary_connection,
    users.primary_provider,
    users.identity_count,
    users.created_at,
    users.last_login_at,
    coalesce(users.logins_count, 0) as logins_count,
    coalesce(users.is_blocked, false) as is_blocked,
    coalesce(role_counts.roles_count, 0) as roles_count,
    coalesce(role_counts.direct_roles_count, 0) as direct_roles_count,
    coalesce(role_counts.organization_roles_count, 0) as organization_roles_count,
    role_names.role_names,
    coalesce(organizations.organizations_count, 0) as organizations_count,
{%- if mfa_extracted %}
    mfa.user_id is not null as is_mfa_enrolled,
    coalesce(mfa.mfa_methods_count, 0) as mfa_methods_count,
    mfa.mfa_method_types
{%- else %}
    cast(null as {{ dbt.type_boolean() }}) as is_mfa_enrolled,  -- user_authentication_methods not extracted
    cast(null as {{ dbt.type_bigint() }}) as mfa_methods_count,
    cast(null as {{ dbt.type_string() }}) as mfa_method_types
{%- endif %}
from users
left join role_counts
    on role_counts.tenant = users.tenant and role_counts.user_id = users.user_id
left join role_names
    on role_names.tenant = users.tenant and role_names.user_id = users.user_id
left join organizations
    on organizations.tenant = users.tenant and organizations.user_id = users.user_id
left join mfa on mfa.tenant = users.tenant and mfa.user_id = users.user_id
