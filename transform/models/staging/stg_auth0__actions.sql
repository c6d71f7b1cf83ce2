-- `actions`: typed and renamed.
{{ auth0_staging('actions', [
    ['all_changes_deployed', dbt.type_boolean(), '"all_changes_deployed"'],
    ['built_at', dbt.type_timestamp(), '"built_at"'],
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['is_deployed', dbt.type_boolean(), '"deploy"'],
    ['action_id', dbt.type_string(), '"id"'],
    ['installed_integration_id', dbt.type_string(), '"installed_integration_id"'],
    ['action_name', dbt.type_string(), '"name"'],
    ['runtime', dbt.type_string(), '"runtime"'],
    ['action_status', dbt.type_string(), '"status"'],
    ['updated_at', dbt.type_timestamp(), '"updated_at"']
]) }}
