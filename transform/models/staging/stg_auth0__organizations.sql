-- `organizations`: typed and renamed.
{{ auth0_staging('organizations', [
    ['display_name', dbt.type_string(), '"display_name"'],
    ['organization_id', dbt.type_string(), '"id"'],
    ['organization_name', dbt.type_string(), '"name"']
]) }}
