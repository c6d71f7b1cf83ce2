-- `grants`: typed and renamed.
{{ auth0_staging('grants', [
    ['audience', dbt.type_string(), '"audience"'],
    ['client_id', dbt.type_string(), '"client_id"'],
    ['grant_id', dbt.type_string(), '"id"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [], users='user_id') }}
