-- `organization_members`: typed and renamed.
{{ auth0_staging('organization_members', [
    ['email', dbt.type_string(), '"email"'],
    ['full_name', dbt.type_string(), '"name"'],
    ['organization_id', dbt.type_string(), '"organization_id"'],
    ['picture', dbt.type_string(), '"picture"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [['organizations', [['organization_id', 'id']]]], users='user_id') }}
