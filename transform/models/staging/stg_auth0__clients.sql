-- `clients`: typed and renamed (the object's own `tenant` is the macro's `tenant`).
{{ auth0_staging('clients', [
    ['app_type', dbt.type_string(), '"app_type"'],
    ['client_id', dbt.type_string(), '"client_id"'],
    ['cross_origin_authentication', dbt.type_boolean(), '"cross_origin_authentication"'],
    ['custom_login_page_on', dbt.type_boolean(), '"custom_login_page_on"'],
    ['description', dbt.type_string(), '"description"'],
    ['is_global', dbt.type_boolean(), '"global"'],
    ['initiate_login_uri', dbt.type_string(), '"initiate_login_uri"'],
    ['is_first_party', dbt.type_boolean(), '"is_first_party"'],
    ['is_token_endpoint_ip_header_trusted', dbt.type_boolean(), '"is_token_endpoint_ip_header_trusted"'],
    ['logo_uri', dbt.type_string(), '"logo_uri"'],
    ['app_name', dbt.type_string(), '"name"'],
    ['oidc_conformant', dbt.type_boolean(), '"oidc_conformant"'],
    ['organization_require_behavior', dbt.type_string(), '"organization_require_behavior"'],
    ['organization_usage', dbt.type_string(), '"organization_usage"'],
    ['is_sso_enabled', dbt.type_boolean(), '"sso"'],
    ['is_sso_disabled', dbt.type_boolean(), '"sso_disabled"'],
    ['token_endpoint_auth_method', dbt.type_string(), '"token_endpoint_auth_method"']
]) }}
