-- One row per Management API write in `logs` (`sapi`: succeeded, `fapi`: failed): who called,
-- what it was called, and what it acted on, parsed from `details.request.path` with the path
-- vocabulary of the tap's change capture (tap_auth0/changes/nominate.py). Request and
-- response bodies are not kept (they can carry secrets); the ids a few membership and role
-- changes name in their body are in stg_auth0__management_action_ids.
with events as (
{{ auth0_staging('logs', [
    ['log_id', dbt.type_string(), '"log_id"'],
    ['event_at', dbt.type_timestamp(), '"date"'],
    ['type_code', dbt.type_string(), '"type"'],
    ['action', dbt.type_string(), '"description"'],
    ['client_id', dbt.type_string(), '"client_id"'],
    ['client_name', dbt.type_string(), '"client_name"'],
    ['ip', dbt.type_string(), '"ip"'],
    ['method', dbt.type_string(), 'upper(' ~ auth0_json_path_text('"details"', ['request', 'method']) ~ ')'],
    ['raw_path', dbt.type_string(), auth0_json_path_text('"details"', ['request', 'path'])],
    ['status_code', dbt.type_int(), auth0_json_path_text('"details"', ['response', 'statusCode'])],
    ['dashboard_user_id', dbt.type_string(), auth0_json_path_text('"details"', ['request', 'auth', 'user', 'user_id'])],
    ['dashboard_user_name', dbt.type_string(), auth0_json_path_text('"details"', ['request', 'auth', 'user', 'name'])],
    ['dashboard_user_email', dbt.type_string(), auth0_json_path_text('"details"', ['request', 'auth', 'user', 'email'])],
    ['response_id', dbt.type_string(), 'coalesce('
        ~ auth0_json_path_text('"details"', ['response', 'body', 'user_id']) ~ ', '
        ~ auth0_json_path_text('"details"', ['response', 'body', 'client_id']) ~ ', '
        ~ auth0_json_path_text('"details"', ['response', 'body', 'id']) ~ ')']
]) }}
),

writes as (
    select
        events.*,
        -- /api/v2/organizations/org_1/members/auth0%7C2/roles?x=y -> /organizations/org_1/...
        case
            when split_part(raw_path, '?', 1) like '/api/v2/%'
                then substr(split_part(raw_path, '?', 1), 8)
            else split_part(raw_path, '?', 1)
        end as api_path
    from events
    where type_code in ('sapi', 'fapi')
),

segments as (
    select
        writes.*,
        nullif(split_part(api_path, '/', 2), '') as seg1,
        nullif(split_part(api_path, '/', 3), '') as seg2,
        nullif(split_part(api_path, '/', 4), '') as seg3,
        nullif(split_part(api_path, '/', 5), '') as seg4,
        nullif(split_part(api_path, '/', 6), '') as seg5
    from writes
),

parsed as (
    select
        segments.*,
        case seg1
            when 'users' then 'user'
            when 'user-blocks' then 'user'
            when 'roles' then 'role'
            when 'organizations' then 'organization'
            when 'clients' then 'client'
            when 'client-grants' then 'client_grant'
            when 'connections' then 'connection'
            when 'resource-servers' then 'resource_server'
            when 'actions' then 'action'
            when 'log-streams' then 'log_stream'
            when 'grants' then 'grant'
            when 'sessions' then 'session'
            when 'refresh-tokens' then 'refresh_token'
            when 'device-credentials' then 'device_credential'
            when 'jobs' then 'job'
            when 'rules' then 'rule'
            when 'hooks' then 'hook'
            when 'custom-domains' then 'custom_domain'
            when 'email-templates' then 'email_template'
            when 'emails' then 'email_provider'
            when 'tenants' then 'tenant'
            when 'guardian' then 'guardian'
            when 'branding' then 'branding'
            when 'prompts' then 'prompt'
            when 'attack-protection' then 'attack_protection'
            when 'keys' then 'signing_key'
            when 'tickets' then 'ticket'
            else 'other'
        end as resource_kind,
        -- Where the path's id sits: /actions/actions/{id}/deploy, else /{collection}/{id}.
        case
            when seg1 = 'actions' and seg2 = 'actions' then seg3
            when seg1 in ('users', 'user-blocks', 'roles', 'organizations', 'clients',
                          'client-grants', 'connections', 'resource-servers', 'log-streams',
                          'grants', 'sessions', 'refresh-tokens', 'device-credentials',
                          'rules', 'hooks', 'custom-domains', 'email-templates') then seg2
        end as path_id,
        case
            when seg1 = 'actions' and seg2 = 'actions' then seg4
            when seg1 = 'organizations' and seg3 = 'members' and seg5 = 'roles' then 'members/roles'
            when seg1 in ('users', 'roles', 'organizations', 'clients', 'connections',
                          'resource-servers') then seg3
        end as sub_resource,
        case
            when seg1 in ('users', 'organizations', 'clients') then seg4
        end as sub_path_id
    from segments
)

select
    tenant,
    log_id,
    event_at,
    type_code as event_type,
    nullif(client_id, '') as actor_client_id,
    nullif(client_name, '') as actor_client_name,
    -- A change made in the dashboard names its user; an API client's names none.
    nullif(dashboard_user_id, '') as actor_user_id,
    nullif(coalesce(nullif(dashboard_user_name, ''), dashboard_user_email), '') as actor_user_name,
    ip as actor_ip,
    action,
    method,
    split_part(raw_path, '?', 1) as request_path,
    resource_kind,
    -- A create names its new object only in the response (id, user_id or client_id).
    coalesce(
        {{ auth0_path_decode('path_id') }},
        case when method = 'POST' and sub_resource is null and type_code = 'sapi' then response_id end
    ) as resource_id,
    sub_resource,
    {{ auth0_path_decode('sub_path_id') }} as sub_resource_id,
    case
        when resource_kind = 'user' and path_id is not null
            then {{ auth0_path_decode('path_id') }}
        when resource_kind = 'user' and method = 'POST' and type_code = 'sapi' then response_id
        when sub_resource = 'members/roles' then {{ auth0_path_decode('seg4') }}
    end as path_user_id,
    status_code,
    type_code = 'sapi' and coalesce(status_code between 200 and 299, true) as is_succeeded
from parsed
