{#-
  One row per `dbt build` (never invalidated): its id, its start (UTC: the time its
  snapshots record, macros/snapshots.sql) and the latest log event landed so far
  (`log_through`). The tap reads the log before it re-reads what the log names, so the
  memberships a build snapshots reflect every log event up to its `log_through`; a later
  event, a later build. auth0_access_history reads it to find the first build that had read
  a log event. A SQL snapshot, so the select is rendered by each invocation that takes it.
-#}
{% snapshot snp_auth0__builds %}
{{ config(unique_key='build_id', strategy='check', check_cols=['build_id'], hard_deletes='ignore') }}
select
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as build_id,
    {{ auth0_build_time() }} as built_at,
    (select max(event_at) from {{ ref('stg_auth0__logs') }}) as log_through
{% endsnapshot %}
