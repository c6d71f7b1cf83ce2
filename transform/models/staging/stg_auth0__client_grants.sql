-- `client_grants`: typed and renamed.
{{ auth0_staging('client_grants', [
    ['allow_any_organization', dbt.type_boolean(), '"allow_any_organization"'],
    ['audience', dbt.type_string(), '"audience"'],
    ['client_id', dbt.type_string(), '"client_id"'],
    ['client_grant_id', dbt.type_string(), '"id"'],
    ['is_system', dbt.type_boolean(), '"is_system"'],
    ['organization_usage', dbt.type_string(), '"organization_usage"'],
    ['subject_type', dbt.type_string(), '"subject_type"']
], [['clients', [['client_id', 'client_id']]]]) }}
