-- `user_permissions`: typed and renamed.
{{ auth0_staging('user_permissions', [
    ['description', dbt.type_string(), '"description"'],
    ['permission_name', dbt.type_string(), '"permission_name"'],
    ['resource_server_identifier', dbt.type_string(), '"resource_server_identifier"'],
    ['resource_server_name', dbt.type_string(), '"resource_server_name"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [], users='user_id') }}
