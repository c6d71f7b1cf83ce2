-- `user_refresh_tokens`: typed and renamed.
{{ auth0_staging('user_refresh_tokens', [
    ['client_id', dbt.type_string(), '"client_id"'],
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['expires_at', dbt.type_timestamp(), '"expires_at"'],
    ['refresh_token_id', dbt.type_string(), '"id"'],
    ['idle_expires_at', dbt.type_timestamp(), '"idle_expires_at"'],
    ['last_exchanged_at', dbt.type_timestamp(), '"last_exchanged_at"'],
    ['is_rotating', dbt.type_boolean(), '"rotating"'],
    ['session_id', dbt.type_string(), '"session_id"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [], users='user_id') }}
