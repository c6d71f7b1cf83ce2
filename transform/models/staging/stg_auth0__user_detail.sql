-- `user_detail`: typed and renamed.
{{ auth0_staging('user_detail', [
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
    ['username', dbt.type_string(), '"username"']
]) }}
