-- `log_streams`: typed and renamed.
{{ auth0_staging('log_streams', [
    ['log_stream_id', dbt.type_string(), '"id"'],
    ['is_priority', dbt.type_boolean(), '"isPriority"'],
    ['log_stream_name', dbt.type_string(), '"name"'],
    ['log_stream_status', dbt.type_string(), '"status"'],
    ['log_stream_type', dbt.type_string(), '"type"']
]) }}
