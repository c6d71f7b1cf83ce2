-- This build, as one row for snp_auth0__builds: its id, its start (UTC, the time the
-- snapshots of this build record) and the latest log event landed so far (`log_through`).
-- The tap reads the log before it re-reads what the log names, so a membership this build
-- snapshots reflects every log event up to `log_through`; a later event is reflected by a
-- later build.
select
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as build_id,
    {{ auth0_build_time() }} as built_at,
    (select max(event_at) from {{ ref('stg_auth0__logs') }}) as log_through
