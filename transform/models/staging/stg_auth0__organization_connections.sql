-- `organization_connections`: typed and renamed.
{{ auth0_staging('organization_connections', [
    ['assign_membership_on_login', dbt.type_boolean(), '"assign_membership_on_login"'],
    ['connection_id', dbt.type_string(), '"connection_id"'],
    ['is_signup_enabled', dbt.type_boolean(), '"is_signup_enabled"'],
    ['organization_id', dbt.type_string(), '"organization_id"'],
    ['show_as_button', dbt.type_boolean(), '"show_as_button"']
], [['organizations', [['organization_id', 'id']]]]) }}
