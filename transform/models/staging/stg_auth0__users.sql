-- HANDWRITTEN `users`: typed and renamed; the first identity (the primary one: Auth0 lists it
-- first) and the identity count from `identities` (one row per identity: stg_auth0__user_identities).
{{ auth0_staging('users', auth0_user_profile_columns() + [
    ['email_domain', dbt.type_string(), "lower(" ~ dbt.split_part('"email"', "'@'", 2) ~ ")"],
    ['primary_connection', dbt.type_string(), auth0_array_item_text('"identities"', '0', 'connection')],
    ['primary_provider', dbt.type_string(), auth0_array_item_text('"identities"', '0', 'provider')],
    ['identity_count', dbt.type_bigint(), auth0_array_length('"identities"')]
]) }}
