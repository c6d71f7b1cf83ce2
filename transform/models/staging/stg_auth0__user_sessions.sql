-- `user_sessions`: typed and renamed.
{{ auth0_staging('user_sessions', [
    ['authenticated_at', dbt.type_timestamp(), '"authenticated_at"'],
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['expires_at', dbt.type_timestamp(), '"expires_at"'],
    ['session_id', dbt.type_string(), '"id"'],
    ['idle_expires_at', dbt.type_timestamp(), '"idle_expires_at"'],
    ['last_interacted_at', dbt.type_timestamp(), '"last_interacted_at"'],
    ['updated_at', dbt.type_timestamp(), '"updated_at"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [], users='user_id') }}
