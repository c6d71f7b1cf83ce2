-- HANDWRITTEN `logs`: typed and renamed; `type` codes mapped to Auth0's names and to an event
-- category (seed auth0_log_types), the event's UTC day, the location's country.
with events as (
{{ auth0_staging('logs', [
    ['audience', dbt.type_string(), '"audience"'],
    ['client_id', dbt.type_string(), '"client_id"'],
    ['client_ip', dbt.type_string(), '"client_ip"'],
    ['client_name', dbt.type_string(), '"client_name"'],
    ['connection', dbt.type_string(), '"connection"'],
    ['connection_id', dbt.type_string(), '"connection_id"'],
    ['event_at', dbt.type_timestamp(), '"date"'],
    ['description', dbt.type_string(), '"description"'],
    ['hostname', dbt.type_string(), '"hostname"'],
    ['ip', dbt.type_string(), '"ip"'],
    ['is_mobile', dbt.type_boolean(), '"isMobile"'],
    ['log_id', dbt.type_string(), '"log_id"'],
    ['organization_id', dbt.type_string(), '"organization_id"'],
    ['organization_name', dbt.type_string(), '"organization_name"'],
    ['strategy', dbt.type_string(), '"strategy"'],
    ['strategy_type', dbt.type_string(), '"strategy_type"'],
    ['type_code', dbt.type_string(), '"type"'],
    ['type_name', dbt.type_string(), '"type_name"'],
    ['user_agent', dbt.type_string(), '"user_agent"'],
    ['user_id', dbt.type_string(), '"user_id"'],
    ['user_name', dbt.type_string(), '"user_name"'],
    ['country_code', dbt.type_string(), auth0_json_text('"location_info"', 'country_code')]
]) }}
)

select
    events.tenant,
    events.log_id,
    events.event_at,
    {{ auth0_day('events.event_at') }} as event_date,
    events.type_code,
    coalesce(log_types.type_name, events.type_name) as type_name,
    coalesce(log_types.event_category, 'other') as event_category,
    events.description,
    events.user_id,
    events.user_name,
    events.client_id,
    events.client_name,
    events.connection,
    events.connection_id,
    events.strategy,
    events.strategy_type,
    events.organization_id,
    events.organization_name,
    events.audience,
    events.ip,
    events.client_ip,
    events.hostname,
    events.country_code,
    events.user_agent,
    events.is_mobile
from events
left join {{ ref('auth0_log_types') }} as log_types
    on log_types.type_code = events.type_code
