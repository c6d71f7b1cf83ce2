-- `role_members`: typed and renamed.
{{ auth0_staging('role_members', [
    ['email', dbt.type_string(), '"email"'],
    ['full_name', dbt.type_string(), '"name"'],
    ['picture', dbt.type_string(), '"picture"'],
    ['role_id', dbt.type_string(), '"role_id"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [['roles', [['role_id', 'id']]]], users='user_id') }}
