-- `user_authentication_methods`: typed and renamed.
{{ auth0_staging('user_authentication_methods', [
    ['is_confirmed', dbt.type_boolean(), '"confirmed"'],
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['credential_backed_up', dbt.type_boolean(), '"credential_backed_up"'],
    ['credential_device_type', dbt.type_string(), '"credential_device_type"'],
    ['email', dbt.type_string(), '"email"'],
    ['enrolled_at', dbt.type_timestamp(), '"enrolled_at"'],
    ['authentication_method_id', dbt.type_string(), '"id"'],
    ['identity_user_id', dbt.type_string(), '"identity_user_id"'],
    ['key_id', dbt.type_string(), '"key_id"'],
    ['last_auth_at', dbt.type_timestamp(), '"last_auth_at"'],
    ['link_id', dbt.type_string(), '"link_id"'],
    ['method_name', dbt.type_string(), '"name"'],
    ['phone_number', dbt.type_string(), '"phone_number"'],
    ['preferred_authentication_method', dbt.type_string(), '"preferred_authentication_method"'],
    ['public_key', dbt.type_string(), '"public_key"'],
    ['relying_party_identifier', dbt.type_string(), '"relying_party_identifier"'],
    ['method_type', dbt.type_string(), '"type"'],
    ['user_agent', dbt.type_string(), '"user_agent"'],
    ['user_id', dbt.type_string(), '"user_id"']
], [], users='user_id') }}
