-- `role_permissions`: typed and renamed.
{{ auth0_staging('role_permissions', [
    ['description', dbt.type_string(), '"description"'],
    ['permission_name', dbt.type_string(), '"permission_name"'],
    ['resource_server_identifier', dbt.type_string(), '"resource_server_identifier"'],
    ['resource_server_name', dbt.type_string(), '"resource_server_name"'],
    ['role_id', dbt.type_string(), '"role_id"']
], [['roles', [['role_id', 'id']]]]) }}
