-- `organization_invitations`: typed and renamed.
{{ auth0_staging('organization_invitations', [
    ['client_id', dbt.type_string(), '"client_id"'],
    ['connection_id', dbt.type_string(), '"connection_id"'],
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['expires_at', dbt.type_timestamp(), '"expires_at"'],
    ['invitation_id', dbt.type_string(), '"id"'],
    ['organization_id', dbt.type_string(), '"organization_id"']
], [['organizations', [['organization_id', 'id']]]]) }}
