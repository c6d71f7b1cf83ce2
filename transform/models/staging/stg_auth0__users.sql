-- HANDWRITTEN `users`: typed and renamed; the first identity (the primary one: Auth0 lists it
-- first) and the identity count from `identities` (one row per identity: stg_auth0__user_identities).
{{ auth0_staging('users', [
    ['is_blocked', dbt.type_boolean(), '"blocked"'],
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['email', dbt.type_string(), '"email"'],
    ['is_email_verified', dbt.type_boolean(), '"email_verified"'],
    ['family_name', dbt.type_string(), '"family_name"'],
    ['given_name', dbt.type_string(), '"given_name"'],
    ['last_ip', dbt.type_string(), '"last_ip"'],
    ['last_login_at', dbt.type_timestamp(), '"last_login"'],
    ['last_password_reset_at', dbt.type_timestamp(), '"last_password_reset"'],
    ['locale', dbt.type_string(), '"locale"'],
    ['logins_count', dbt.type_bigint(), '"logins_count"'],
    ['multifactor_last_modified_at', dbt.type_timestamp(), '"multifactor_last_modified"'],
    ['full_name', dbt.type_string(), '"name"'],
    ['nickname', dbt.type_string(), '"nickname"'],
    ['phone_number', dbt.type_string(), '"phone_number"'],
    ['is_phone_verified', dbt.type_boolean(), '"phone_verified"'],
    ['picture', dbt.type_string(), '"picture"'],
    ['updated_at', dbt.type_timestamp(), '"updated_at"'],
    ['user_id', dbt.type_string(), '"user_id"'],
    ['username', dbt.type_string(), '"username"'],
    ['email_domain', dbt.type_string(), "lower(" ~ dbt.split_part('"email"', "'@'", 2) ~ ")"],
    ['primary_connection', dbt.type_string(), auth0_array_item_text('"identities"', '0', 'connection')],
    ['primary_provider', dbt.type_string(), auth0_array_item_text('"identities"', '0', 'provider')],
    ['identity_count', dbt.type_bigint(), auth0_array_length('"identities"')]
]) }}
