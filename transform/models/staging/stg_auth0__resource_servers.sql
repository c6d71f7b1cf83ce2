-- `resource_servers`: typed and renamed.
{{ auth0_staging('resource_servers', [
    ['allow_offline_access', dbt.type_boolean(), '"allow_offline_access"'],
    ['enforce_policies', dbt.type_boolean(), '"enforce_policies"'],
    ['resource_server_id', dbt.type_string(), '"id"'],
    ['identifier', dbt.type_string(), '"identifier"'],
    ['is_system', dbt.type_boolean(), '"is_system"'],
    ['resource_server_name', dbt.type_string(), '"name"'],
    ['signing_alg', dbt.type_string(), '"signing_alg"'],
    ['skip_consent_for_verifiable_first_party_clients', dbt.type_boolean(), '"skip_consent_for_verifiable_first_party_clients"'],
    ['token_dialect', dbt.type_string(), '"token_dialect"'],
    ['token_lifetime', dbt.type_bigint(), '"token_lifetime"'],
    ['token_lifetime_for_web', dbt.type_bigint(), '"token_lifetime_for_web"']
]) }}
