-- `organization_member_roles`: typed and renamed.
{{ auth0_staging('organization_member_roles', [
    ['organization_id', dbt.type_string(), '"organization_id"'],
    ['role_id', dbt.type_string(), '"role_id"'],
    ['role_name', dbt.type_string(), '"role_name"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [['organizations', [['organization_id', 'id']]], ['organization_members', [['organization_id', 'organization_id'], ['user_id', 'user_id']]]], users='user_id') }}
