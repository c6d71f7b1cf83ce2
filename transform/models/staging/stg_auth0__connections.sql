-- `connections`: typed and renamed.
{{ auth0_staging('connections', [
    ['display_name', dbt.type_string(), '"display_name"'],
    ['connection_id', dbt.type_string(), '"id"'],
    ['is_domain_connection', dbt.type_boolean(), '"is_domain_connection"'],
    ['connection_name', dbt.type_string(), '"name"'],
    ['show_as_button', dbt.type_boolean(), '"show_as_button"'],
    ['strategy', dbt.type_string(), '"strategy"']
]) }}
