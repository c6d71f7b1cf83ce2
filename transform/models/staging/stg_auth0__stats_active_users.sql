-- `stats_active_users`: typed and renamed.
{{ auth0_staging('stats_active_users', [
    ['active_users', dbt.type_bigint(), '"active_users"'],
    ['stats_date', 'date', '"date"'],
    ['extracted_at', dbt.type_timestamp(), '"extracted_at"']
]) }}
