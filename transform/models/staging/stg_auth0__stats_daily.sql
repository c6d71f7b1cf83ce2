-- `stats_daily`: typed and renamed.
{{ auth0_staging('stats_daily', [
    ['created_at', dbt.type_timestamp(), '"created_at"'],
    ['stats_date', dbt.type_timestamp(), '"date"'],
    ['leaked_passwords', dbt.type_bigint(), '"leaked_passwords"'],
    ['leaked_passwords_signup', dbt.type_bigint(), '"leaked_passwords_signup"'],
    ['logins', dbt.type_bigint(), '"logins"'],
    ['signups', dbt.type_bigint(), '"signups"'],
    ['updated_at', dbt.type_timestamp(), '"updated_at"']
]) }}
