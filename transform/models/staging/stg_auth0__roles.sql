-- `roles`: typed and renamed.
{{ auth0_staging('roles', [
    ['description', dbt.type_string(), '"description"'],
    ['role_id', dbt.type_string(), '"id"'],
    ['role_name', dbt.type_string(), '"name"']
]) }}
