-- `connection_clients`: typed and renamed.
{{ auth0_staging('connection_clients', [
    ['client_id', dbt.type_string(), '"client_id"'],
    ['connection_id', dbt.type_string(), '"connection_id"']
], [['connections', [['connection_id', 'id']]], ['clients', [['client_id', 'client_id']]]]) }}
